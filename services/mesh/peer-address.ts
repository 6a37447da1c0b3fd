// Peer addresses (a config's `addresses:`): where an instance that runs
// elsewhere listens. Either one server's main port, `http(s)://host:port`
// (connect's gRPC transport: one endpoint, no balancing), or the grpc-js
// ports of one or more replicas:
//
//   grpc://name:9090                    a DNS name, maybe of several addresses
//                                       (a Kubernetes headless Service)
//   dns:///name:9090                    the same, in gRPC's own spelling
//   grpc://10.0.0.1:9090,10.0.0.2:9090  a static list (names or IPs; IPv6 in brackets)
//   [grpc://a:9090, grpc://b:9090]      the same list in YAML
//
// `grpcs://` is the same with TLS. Calls to a grpc peer go round-robin over
// every address its entries resolve to (mesh/grpc-peer.ts).
import { isIP, isIPv6 } from "node:net";
import { ConfigError } from "./errors.js";

/** One entry of a grpc peer's list: a DNS name or an IP (IPv6 without brackets), and a port. */
export interface HostPort {
  host: string;
  port: number;
}

export type PeerAddress =
  | { kind: "http"; url: string }
  | {
      kind: "grpc";
      /** grpcs://: TLS. */
      tls: boolean;
      /** At least one; each name may resolve to several addresses. */
      endpoints: HostPort[];
    };

/** What a bad address is told (a config test matches its start). */
export const ADDRESS_FORMS =
  "must be an http(s):// or grpc:// URL (grpcs:// with TLS), dns:///HOST:PORT, or several grpc:// endpoints of one instance's replicas (grpc://HOST:PORT,HOST:PORT or a YAML list of grpc:// URLs)";

const HTTP_LIST =
  "an http(s):// address names one server (the main port, no balancing): give the replicas' grpc:// addresses (their grpc_port) to spread calls over several";

/**
 * Parses a peer address: a string (an http(s) URL, or grpc endpoints, comma
 * separated) or a list of strings (grpc endpoints). Throws a ConfigError
 * whose message says what is wrong (without the field's name).
 */
export function parsePeerAddress(address: unknown): PeerAddress {
  if (typeof address === "string") return parseOne(address, false);
  if (Array.isArray(address)) {
    if (address.length === 0) throw new ConfigError(`an empty list: ${ADDRESS_FORMS}`);
    const parts = address.map((entry, i) => {
      if (typeof entry !== "string") throw new ConfigError(`[${i}]: not a string: ${ADDRESS_FORMS}`);
      return parseOne(entry, true);
    });
    const grpc = parts as Extract<PeerAddress, { kind: "grpc" }>[];
    if (grpc.some((p) => p.tls !== grpc[0]!.tls)) throw new ConfigError("mixes grpc:// and grpcs:// entries: one instance's replicas all speak TLS or none do");
    return { kind: "grpc", tls: grpc[0]!.tls, endpoints: unique(grpc.flatMap((p) => p.endpoints)) };
  }
  throw new ConfigError(ADDRESS_FORMS);
}

/** The address as one string (a YAML list becomes `grpc://a:1,b:2`). */
export function formatPeerAddress(peer: PeerAddress): string {
  if (peer.kind === "http") return peer.url;
  return `${peer.tls ? "grpcs" : "grpc"}://${peer.endpoints.map(hostPort).join(",")}`;
}

/** `host:port`, an IPv6 host in brackets. */
export function hostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for an entry that is an IP, not a name to look up. */
export function isIpEndpoint(endpoint: HostPort): boolean {
  return isIP(endpoint.host) !== 0;
}

function parseOne(text: string, inList: boolean): PeerAddress {
  const trimmed = text.trim();
  const http = /^https?:\/\//.exec(trimmed);
  if (http) {
    if (inList || trimmed.includes(",")) throw new ConfigError(HTTP_LIST);
    return { kind: "http", url: trimmed };
  }
  const dns = /^dns:(\/\/([^/]*)\/)?/.exec(trimmed);
  if (dns) {
    if (dns[2]) throw new ConfigError(`dns://${dns[2]}/...: a DNS server of its own is not supported; write dns:///HOST:PORT (the system's resolver)`);
    return { kind: "grpc", tls: false, endpoints: [endpointOf(trimmed.slice(dns[0].length), trimmed)] };
  }
  const grpc = /^(grpcs?):\/\//.exec(trimmed);
  if (!grpc) throw new ConfigError(ADDRESS_FORMS);
  const scheme = grpc[1]!;
  // Later entries of a comma list may repeat the scheme: grpc://a:1,grpc://b:2.
  const entries = trimmed
    .slice(grpc[0].length)
    .split(",")
    .map((entry, i) => {
      const own = /^(grpcs?):\/\//.exec(entry.trim());
      if (own && i > 0 && own[1] !== scheme) throw new ConfigError("mixes grpc:// and grpcs:// entries: one instance's replicas all speak TLS or none do");
      return own && i > 0 ? entry.trim().slice(own[0].length) : entry;
    });
  return { kind: "grpc", tls: scheme === "grpcs", endpoints: unique(entries.map((entry) => endpointOf(entry, trimmed))) };
}

/** `host:port` or `[ipv6]:port` (a trailing slash allowed). */
function endpointOf(raw: string, whole: string): HostPort {
  const entry = raw.trim().replace(/\/+$/, "");
  if (entry === "") throw new ConfigError(`${JSON.stringify(whole)}: an empty entry: ${ADDRESS_FORMS}`);
  const match = /^(?:\[([^\]]*)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(entry);
  if (!match) {
    const why = (entry.match(/:/g) ?? []).length > 1 && !entry.startsWith("[") ? "an IPv6 address goes in brackets: [::1]:9090" : "want HOST:PORT (a port is needed)";
    throw new ConfigError(`${JSON.stringify(entry)}: ${why}; ${ADDRESS_FORMS}`);
  }
  const [, v6, name, portText] = match;
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new ConfigError(`${JSON.stringify(entry)}: the port must be 1 to 65535`);
  if (v6 !== undefined) {
    if (!isIPv6(v6)) throw new ConfigError(`${JSON.stringify(entry)}: only an IPv6 address goes in brackets`);
    return { host: v6.toLowerCase(), port };
  }
  if (!/^[A-Za-z0-9._-]+$/.test(name!)) throw new ConfigError(`${JSON.stringify(entry)}: not a host name or IP address`);
  return { host: name!, port };
}

function unique(endpoints: HostPort[]): HostPort[] {
  const seen = new Set<string>();
  return endpoints.filter((e) => {
    const key = hostPort(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
