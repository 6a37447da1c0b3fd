// Sticky sessions over a balanced grpc peer. A session's state lives in the
// replica that created it, so every later call of the session must reach
// that replica, whichever one round-robin would pick. The calls are told
// apart by their messages, not by service names:
//
//   - a seeding call returns a new id: its output has a string field
//     `session_id` or `episode_id` (ResourcesService.SeedSession,
//     EpisodeService.Reset);
//   - a session call names one: its input has such a field (CallTool, Verify,
//     CloseSession; Step, CloseEpisode).
//
// The id a seeding call returns is pinned to the address that answered it,
// `<id>@<ip:port>` (`@[ipv6]:port`); the caller keeps it as an opaque id. A
// session call with a pinned id goes, with the bare id, to exactly that
// address (the server never sees the suffix), and does not wait for it: a
// replica that is gone answers UNAVAILABLE at once, the rollout fails that
// try, and the rollout service's retry (max_attempts) starts it afresh with
// a session seeded elsewhere. A session's state never silently moves to
// another replica. An id without a pin (empty, or seeded elsewhere) goes
// through the balanced channel as it is.
import { ScalarType, type DescField, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { peerOf } from "./grpc-js-transport.js";
import { ipAddressOf } from "./peer-resolver.js";

/** The fields that carry a session's id. */
const SESSION_ID_FIELDS = new Set(["session_id", "episode_id"]);

export type SessionRole = { kind: "seeds" | "continues"; field: DescField } | undefined;

const roles = new WeakMap<DescMethod, SessionRole>();

/** What a method does with sessions: seeds one (returns its id), continues one (takes its id), or neither. */
export function sessionRole(method: DescMethod): SessionRole {
  if (roles.has(method)) return roles.get(method);
  let role: SessionRole;
  if (method.methodKind === "unary") {
    const taken = sessionIdField(method.input);
    const given = sessionIdField(method.output);
    role = taken ? { kind: "continues", field: taken } : given ? { kind: "seeds", field: given } : undefined;
  }
  roles.set(method, role);
  return role;
}

function sessionIdField(message: DescMessage): DescField | undefined {
  return message.fields.find((f) => SESSION_ID_FIELDS.has(f.name) && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING && !f.oneof);
}

/** The id a caller gets: the server's, pinned to the address that made it. */
export function pinSession(id: string, address: string): string {
  return `${id}@${address}`;
}

/** The server's id and the address it is pinned to; undefined for an id without a pin. */
export function unpinSession(id: string): { id: string; address: string } | undefined {
  const at = id.lastIndexOf("@");
  if (at < 0) return undefined;
  const address = id.slice(at + 1);
  return ipAddressOf(address) ? { id: id.slice(0, at), address } : undefined;
}

export interface StickyOptions {
  /** A transport to exactly this address (`ip:port`), whose calls fail at once when it cannot be reached. */
  pinnedTo(address: string): Transport & { close(): void };
  /** Pinned transports kept open (the least recently used one past this is closed). 256. */
  maxPinned?: number;
  /** For messages: the peer's address as configured. */
  name?: string;
}

/** `balanced` with sticky sessions: seeding calls pin the ids they return, session calls follow the pin. */
export function stickySessions(balanced: Transport, options: StickyOptions): Transport {
  const max = options.maxPinned ?? 256;
  const open = new Map<string, Transport & { close(): void }>(); // least recently used first
  const pinned = (address: string) => {
    let transport = open.get(address);
    if (transport) open.delete(address);
    else transport = options.pinnedTo(address);
    open.set(address, transport);
    if (open.size > max) {
      const [oldest, evicted] = open.entries().next().value!;
      open.delete(oldest);
      evicted.close();
    }
    return transport;
  };

  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const role = sessionRole(method);
      if (role?.kind === "seeds") {
        const response = await balanced.unary(method, signal, timeoutMs, header, input, contextValues);
        const message = response.message as Record<string, unknown>;
        const id = message[role.field.localName];
        const address = peerOf(response);
        if (typeof id === "string" && id !== "" && address && ipAddressOf(address)) message[role.field.localName] = pinSession(id, address);
        return response;
      }
      if (role?.kind === "continues") {
        const id = (input as Record<string, unknown>)[role.field.localName];
        const pin = typeof id === "string" ? unpinSession(id) : undefined;
        if (pin) {
          const bare = { ...input, [role.field.localName]: pin.id } as typeof input;
          try {
            return await pinned(pin.address).unary(method, signal, timeoutMs, header, bare, contextValues);
          } catch (err) {
            const error = ConnectError.from(err);
            if (error.code !== Code.Unavailable) throw error;
            const where = options.name ? ` of ${options.name}` : "";
            throw new ConnectError(
              `the replica${where} at ${pin.address} that holds this session is unavailable (start again with a new session): ${error.rawMessage}`,
              Code.Unavailable,
              error.metadata,
            );
          }
        }
      }
      return balanced.unary(method, signal, timeoutMs, header, input, contextValues);
    },

    stream(method, signal, timeoutMs, header, input, contextValues) {
      return balanced.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}
