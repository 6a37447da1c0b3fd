// The transport of a grpc peer (`grpc://`, `grpcs://`, `dns:///`, or a list
// of them: mesh/peer-address.ts): one grpc-js channel whose calls go
// round-robin over every address of the peer, with sticky sessions. All of it
// is grpc-js's: the names are resolved by its dns resolver (under the mesh's
// `gym-peer` resolver, which joins a list: mesh/peer-resolver.ts), again when
// a connection drops, at most every few seconds, and every 30 s for new
// replicas; its round_robin policy keeps a connection to each address and
// sends each call to the next ready one, so an address that stops answering
// gets no calls until it is back; keepalive pings find dead connections.
// Seeding calls pin their session to the replica that answered, and the
// session's calls follow the pin (mesh/sticky-sessions.ts).
import { isIP } from "node:net";
import * as tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import type { Transport } from "@connectrpc/connect";
import { peerAuthorization, type MeshSecurity } from "./auth.js";
import { createGrpcJsTransport } from "./grpc-js-transport.js";
import { isIpEndpoint, type PeerAddress } from "./peer-address.js";
import { PIN_OPTION, REFRESH_OPTION, peerTarget } from "./peer-resolver.js";
import { stickySessions } from "./sticky-sessions.js";
import { grpcJsChannelCredentials, type TlsMaterial } from "./tls.js";

export type GrpcPeer = Extract<PeerAddress, { kind: "grpc" }>;

/** Channel options of a grpc peer (besides grpc-js-transport.ts's own). */
export const PEER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  // The service config is the mesh's: none from DNS TXT records (and no TXT lookups).
  "grpc.service_config_disable_resolution": 1,
  // A dropped connection (a replica gone, a rolling restart) has the names looked up again, at most this often (grpc-js: 30 s).
  "grpc.dns_min_time_between_resolutions_ms": 5_000,
  // A ping every 30 s (with or without calls), the connection dropped after 10 s without an answer:
  // a replica that vanished without closing its connections (its node died) leaves the rotation.
  // The mesh's grpc-js ports accept any ping rate; a server that finds it too much says so and grpc-js pings less.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
};

/** How often a peer's names are looked up even when no connection dropped (replicas added by a scale-up). */
export const DEFAULT_REFRESH_MS = 30_000;

export interface GrpcPeerOptions {
  /** The mesh's token (sent on every call) and TLS (grpcs://). */
  security?: MeshSecurity;
  /** Names looked up again this often, in ms (0: only when a connection drops). 30 s. */
  refreshMs?: number;
  /** More channel options (tests: a shorter `grpc.dns_min_time_between_resolutions_ms`). */
  channelOptions?: grpc.ChannelOptions;
}

export function createGrpcPeerTransport(peer: GrpcPeer, options: GrpcPeerOptions = {}): Transport {
  const target = peerTarget(peer.endpoints);
  // One credentials object and one set of options for the balanced channel and its pinned ones, so that they share connections.
  const { credentials, tlsOptions } = peer.tls ? peerTls(peer, options.security?.tls) : { credentials: grpc.credentials.createInsecure(), tlsOptions: {} };
  const channelOptions = { ...PEER_CHANNEL_OPTIONS, ...tlsOptions, [REFRESH_OPTION]: options.refreshMs ?? DEFAULT_REFRESH_MS, ...options.channelOptions };
  const authorization = peerAuthorization(options.security);
  const balanced = createGrpcJsTransport(target, { credentials, channelOptions, authorization });
  // One IP (a server, or a Service's virtual IP): every call already goes over its one connection; nothing to pin.
  if (peer.endpoints.length === 1 && isIpEndpoint(peer.endpoints[0]!)) return balanced;
  return stickySessions(balanced, {
    name: target.slice(target.indexOf("///") + 3),
    pinnedTo: (address) => createGrpcJsTransport(target, { credentials, channelOptions: { ...channelOptions, [PIN_OPTION]: address }, authorization, waitForReady: false }),
  });
}

/**
 * TLS of a grpcs:// peer: trust the mesh's CA, present its certificate (mTLS).
 * A certificate is checked against the peer's name (its one host). When the
 * list names replicas by several names or IPs, each replica's certificate
 * must be valid for one of them (grpc-js would check them all against the
 * first), and the first name is sent as the server name (SNI).
 */
function peerTls(peer: GrpcPeer, material: TlsMaterial | undefined): { credentials: grpc.ChannelCredentials; tlsOptions: grpc.ChannelOptions } {
  const hosts = [...new Set(peer.endpoints.map((e) => e.host))];
  if (hosts.length === 1) return { credentials: grpcJsChannelCredentials(material), tlsOptions: {} };
  const credentials = grpc.credentials.createSsl(material?.ca ?? null, material?.key ?? null, material?.cert ?? null, {
    checkServerIdentity: (_host, cert) => {
      let refused: Error | undefined;
      for (const host of hosts) {
        const err = tls.checkServerIdentity(host, cert);
        if (!err) return undefined;
        refused ??= err;
      }
      return refused;
    },
  });
  const name = hosts.find((h) => isIP(h) === 0);
  return { credentials, tlsOptions: name ? { "grpc.ssl_target_name_override": name } : {} };
}
