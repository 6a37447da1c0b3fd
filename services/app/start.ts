// Starts the instances of a config in this process, each on its own port, in
// the kinds' order (peers first), and records where each one listens.
import { ConfigError } from "../mesh/errors.js";
import type { RunningServer } from "../mesh/serve.js";
import { AddressBook } from "./addresses.js";
import type { MeshConfig } from "./config.js";
import { KINDS, kindOf } from "./kinds.js";

export interface RunningInstance {
  name: string;
  kind: string;
  /** The gRPC service it serves, or a description for plain HTTP servers. */
  service: string;
  url: string;
  server: RunningServer;
}

export interface RunningMesh {
  instances: RunningInstance[];
  /** The main-port URL of an instance, started here or at its address. */
  url(name: string): string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The address to listen on; 0.0.0.0 in a container. */
  host?: string;
  /** Start only these instances; the others run elsewhere, at `addresses`. */
  only?: string[];
  /** Free ports for every instance, whatever the config says (one of several meshes in one process). */
  freePorts?: boolean;
  /** The ports of these instances, whatever the config says (chosen by `gym serve --workers`' primary, shared by its workers). */
  ports?: Record<string, { port: number; grpcPort: number }>;
}

export async function startMesh(config: MeshConfig, options: StartOptions = {}): Promise<RunningMesh> {
  const host = options.host ?? "127.0.0.1";
  const names = Object.keys(config.instances);
  for (const name of options.only ?? []) {
    if (!config.instances[name]) throw new ConfigError(`no instance "${name}" in the config (instances: ${names.join(", ")})`);
  }
  const book = new AddressBook(config.addresses, config.security);
  const instancesOf = (kind: string) => names.filter((n) => config.instances[n]!.kind === kind);
  const order = (kind: string) => KINDS.findIndex((k) => k.kind === kind);
  const entries = Object.entries(config.instances)
    .filter(([name]) => !options.only || options.only.includes(name))
    .sort(([, a], [, b]) => order(a.kind) - order(b.kind));

  const started: RunningInstance[] = [];
  try {
    for (const [name, inst] of entries) {
      const kind = kindOf(inst.kind)!;
      const server = await kind.start(inst, {
        name,
        host,
        port: options.freePorts ? 0 : (options.ports?.[name]?.port ?? inst.port ?? 0),
        grpcPort: options.freePorts ? 0 : (options.ports?.[name]?.grpcPort ?? ("grpc_port" in inst ? inst.grpc_port : undefined) ?? 0),
        peer: (service, peer) => book.peer(service, peer),
        httpUrl: (peer) => book.httpUrl(peer),
        instancesOf,
        security: config.security,
        limits: inst.limits,
      });
      book.add(name, server);
      started.push({ name, kind: inst.kind, service: kind.label(inst), url: server.url, server });
    }
  } catch (err) {
    await Promise.all(started.map((i) => i.server.close()));
    throw err;
  }

  return {
    instances: started,
    url: (name) => book.httpUrl(name),
    // Front to back, so callers drain before the services they call.
    close: async () => {
      for (const inst of [...started].reverse()) await inst.server.close();
    },
  };
}
