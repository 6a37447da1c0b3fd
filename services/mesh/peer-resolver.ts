// The grpc-js name resolver of the mesh's grpc peers (scheme `gym-peer`): a
// target names a list of entries, `gym-peer:///name:9090,10.0.0.2:9090`, and
// resolves to every address of every entry. IPs stand for themselves; each
// name is looked up by grpc-js's own `dns` resolver (its backoff and its
// `grpc.dns_min_time_between_resolutions_ms`), again whenever the channel
// asks (a connection dropped: a replica gone, a rolling restart) and, so that
// replicas added by a scale-up are seen too, every REFRESH_OPTION ms.
//
// A channel made with PIN_OPTION resolves to that one address instead: the
// channel of a pinned session (mesh/sticky-sessions.ts). It has the same
// target and, but for that option (which grpc-js keeps out of subchannel
// arguments), the same options as the peer's balanced channel, so both share
// grpc-js's subchannel of that address: a pinned call goes over the very
// connection the session was seeded on (behind a virtual IP, the same
// replica), and pinning opens no connection of its own.
//
// Balancing itself is grpc-js's round_robin policy (mesh/grpc-peer.ts sets it).
import { isIP } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { hostPort, type HostPort } from "./peer-address.js";

type Resolver = grpc.experimental.Resolver;
type ResolverListener = grpc.experimental.ResolverListener;
type GrpcUri = grpc.experimental.GrpcUri;
type Endpoint = grpc.experimental.Endpoint;
type Result = Parameters<ResolverListener>[0];

export const PEER_SCHEME = "gym-peer";

// Both are left out of subchannel arguments (so they do not keep channels from sharing subchannels).
const INTERNAL = grpc.experimental.SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX;
/** Channel option: resolve to this one address (`ip:port`, `[ipv6]:port`) only. */
export const PIN_OPTION = `${INTERNAL}.gym_pinned_address`;
/** Channel option: look the names up again this often (ms) even when nothing failed; 0: only when asked. */
export const REFRESH_OPTION = `${INTERNAL}.gym_refresh_ms`;

/** The grpc-js target of a peer with these entries. */
export function peerTarget(endpoints: readonly HostPort[]): string {
  return `${PEER_SCHEME}:///${endpoints.map(hostPort).join(",")}`;
}

/** An `ip:port` / `[ipv6]:port` as a subchannel address; undefined when it is not one. */
export function ipAddressOf(text: string): HostPort | undefined {
  const hp = grpc.experimental.splitHostPort(text);
  if (!hp || hp.port === undefined || isIP(hp.host) === 0) return undefined;
  // An IPv6 host must come in brackets, an IPv4 one without.
  if ((isIP(hp.host) === 6) !== text.startsWith("[")) return undefined;
  return { host: hp.host, port: hp.port };
}

function entriesOf(target: GrpcUri): HostPort[] {
  return target.path.split(",").map((entry) => {
    const hp = grpc.experimental.splitHostPort(entry);
    if (!hp || hp.port === undefined) throw new Error(`${PEER_SCHEME}: bad entry ${JSON.stringify(entry)} in ${target.path}`);
    return { host: hp.host, port: hp.port };
  });
}

class PeerResolver implements Resolver {
  private readonly entries: HostPort[];
  private readonly pinned: HostPort | undefined;
  private readonly refreshMs: number;
  /** Per entry: its latest result (undefined until it has one). */
  private results: (Result | undefined)[] = [];
  /** Per entry: grpc-js's dns resolver of a name, undefined for an IP. */
  private lookups: (Resolver | undefined)[] | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private reportedStatic = false;

  constructor(
    target: GrpcUri,
    private readonly listener: ResolverListener,
    private readonly options: grpc.ChannelOptions,
  ) {
    this.entries = entriesOf(target);
    const pin = options[PIN_OPTION] as string | undefined;
    this.pinned = pin === undefined ? undefined : ipAddressOf(pin);
    if (pin !== undefined && !this.pinned) throw new Error(`${PEER_SCHEME}: bad pinned address ${JSON.stringify(pin)}`);
    this.refreshMs = Number(options[REFRESH_OPTION] ?? 0);
  }

  updateResolution(): void {
    if (this.pinned) return this.reportOnce([this.pinned]);
    if (this.entries.every((e) => isIP(e.host) !== 0)) return this.reportOnce(this.entries);
    if (!this.lookups) this.start();
    for (const lookup of this.lookups!) lookup?.updateResolution();
  }

  destroy(): void {
    for (const lookup of this.lookups ?? []) lookup?.destroy();
    this.lookups = undefined;
    this.results = [];
    this.reportedStatic = false;
    clearInterval(this.refresher);
    this.refresher = undefined;
  }

  /** Fixed addresses: reported once (never synchronously, as grpc-js asks). */
  private reportOnce(addresses: HostPort[]): void {
    if (this.reportedStatic) return;
    this.reportedStatic = true;
    process.nextTick(() => this.listener(grpc.experimental.statusOrFromValue(addresses.map((a) => ({ addresses: [a] }))), {}, null, ""));
  }

  private start(): void {
    this.results = this.entries.map((e) => (isIP(e.host) !== 0 ? grpc.experimental.statusOrFromValue([{ addresses: [e] }]) : undefined));
    this.lookups = this.entries.map((e, i) => {
      if (isIP(e.host) !== 0) return undefined;
      const onResult: ResolverListener = (result) => {
        // A failed lookup keeps the entry's last good addresses (their connections tell whether they still answer).
        if (result.ok || !this.results[i]?.ok) this.results[i] = result;
        return this.report();
      };
      return grpc.experimental.createResolver({ scheme: "dns", authority: undefined, path: hostPort(e) }, onResult, this.options);
    });
    if (this.refreshMs > 0) {
      this.refresher = setInterval(() => {
        for (const lookup of this.lookups ?? []) lookup?.updateResolution();
      }, this.refreshMs);
      this.refresher.unref();
    }
  }

  /** Every address of every entry, once each entry has answered; an error when none has any. */
  private report(): boolean {
    if (this.results.some((r) => r === undefined)) return true;
    const seen = new Set<string>();
    const endpoints: Endpoint[] = [];
    const errors: string[] = [];
    for (const result of this.results as Result[]) {
      if (!result.ok) {
        errors.push(result.error.details);
        continue;
      }
      for (const endpoint of result.value) {
        const key = endpoint.addresses.map((a) => ("port" in a ? hostPort(a) : a.path)).join(",");
        if (!seen.has(key)) endpoints.push(endpoint);
        seen.add(key);
      }
    }
    if (endpoints.length === 0) {
      const details = errors.length ? errors.join("; ") : `no address for ${this.entries.map(hostPort).join(",")}`;
      return this.listener(grpc.experimental.statusOrFromError({ code: grpc.status.UNAVAILABLE, details }), {}, null, "");
    }
    return this.listener(grpc.experimental.statusOrFromValue(endpoints), {}, null, "");
  }

  /** The first entry (the `:authority` of calls, and the name a TLS certificate is checked against by default). */
  static getDefaultAuthority(target: GrpcUri): string {
    return hostPort(entriesOf(target)[0]!);
  }
}

grpc.experimental.registerResolver(PEER_SCHEME, PeerResolver);
