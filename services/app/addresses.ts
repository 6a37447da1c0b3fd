// The address book: how an instance reaches another by name. Instances
// started in this process are called in-process (no network hop); the others
// at their address under the config's `addresses`: an http(s):// URL (one
// server), or grpc:// endpoints, which may be several replicas (a DNS name
// of several addresses, `dns:///`, or a list): their calls are balanced
// round-robin and each session's calls stay on the replica that seeded it
// (mesh/clients.ts, mesh/grpc-peer.ts).
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import type { MeshSecurity } from "../mesh/auth.js";
import { clientFor } from "../mesh/clients.js";
import { ConfigError } from "../mesh/errors.js";
import type { RunningServer } from "../mesh/serve.js";

export class AddressBook {
  private readonly started = new Map<string, RunningServer>();

  constructor(
    private readonly addresses: Record<string, string> = {},
    /** The token and TLS of calls over the network (in-process calls need neither). */
    private readonly security?: MeshSecurity,
  ) {}

  add(name: string, server: RunningServer): void {
    this.started.set(name, server);
  }

  /** The address of an instance that runs elsewhere (checked when the config loads; a list is one comma-separated string). */
  private elsewhere(name: string): string {
    const found = this.addresses[name];
    if (found) return found;
    throw new ConfigError(`instance "${name}" is not started here: give its URL under addresses.${name}`);
  }

  /** The main (HTTP) port's URL: a model reaches a mock_model's OpenAI face there. */
  httpUrl(name: string): string {
    const found = this.started.get(name)?.url ?? this.elsewhere(name);
    if (!/^https?:\/\//.test(found)) throw new ConfigError(`addresses.${name}: needs an http(s) URL here (its HTTP API), not ${found}`);
    return found;
  }

  /** A typed client of another instance. */
  peer<S extends DescService>(service: S, name: string): Client<S> {
    const local = this.started.get(name);
    if (local) return createClient(service, local.localTransport);
    try {
      return clientFor(service, this.elsewhere(name), this.security);
    } catch (err) {
      if (err instanceof ConfigError && !err.message.startsWith("instance ")) throw new ConfigError(`addresses.${name}: ${err.message}`);
      throw err;
    }
  }
}
