// A grpc peer with several replicas (mesh/grpc-peer.ts): calls spread
// round-robin, each session stays on the replica that seeded it, a stopped
// replica leaves the rotation and comes back with its port, a session whose
// replica is gone fails UNAVAILABLE at once, DNS names are looked up again,
// and TLS checks each replica's certificate. Every replica is a real server
// on a loopback port; each one knows only the sessions it created (any other
// id is ABORTED, as in the resources host) and counts what it saw.
import { execFileSync } from "node:child_process";
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import type { MeshSecurity } from "./auth.js";
import { clientFor } from "./clients.js";
import { createGrpcPeerTransport } from "./grpc-peer.js";
import { setQuiet } from "./log.js";
import { parsePeerAddress, type PeerAddress } from "./peer-address.js";
import { hosted, serve, type RunningServer } from "./serve.js";
import { unpinSession } from "./sticky-sessions.js";

setQuiet(true);

interface Seen {
  seeds: number;
  /** Session calls answered (CallTool, Verify, CloseSession, Step, CloseEpisode). */
  sessionCalls: number;
  /** Session calls naming an id this replica did not create: ABORTED. */
  unknown: number;
  /** Every id the replica was sent. */
  ids: string[];
}

interface Replica {
  name: string;
  server: RunningServer;
  /** Its grpc-js port's `ip:port`. */
  address: string;
  seen: Seen;
}

const running = new Set<RunningServer>();
afterEach(async () => {
  await Promise.all([...running].map((s) => s.close()));
  running.clear();
});

async function startReplica(name: string, options: { host?: string; port?: number; security?: MeshSecurity } = {}): Promise<Replica> {
  const seen: Seen = { seeds: 0, sessionCalls: 0, unknown: 0, ids: [] };
  const sessions = new Set<string>();
  let next = 0;
  const open = () => {
    seen.seeds++;
    const id = `${name}-${next++}`;
    sessions.add(id);
    return id;
  };
  const known = (id: string) => {
    seen.ids.push(id);
    if (!sessions.has(id)) {
      seen.unknown++;
      throw new ConnectError(`${name}: no session "${id}"`, Code.Aborted);
    }
    seen.sessionCalls++;
  };
  const server = await serve({
    name,
    host: options.host ?? "127.0.0.1",
    grpcPort: options.port ?? 0,
    security: options.security,
    services: [
      hosted(ResourcesService, {
        seedSession: () => ({ sessionId: open() }),
        listTools: () => ({ tools: [] }),
        callTool: (req) => (known(req.sessionId), { output: name }),
        verify: (req) => (known(req.sessionId), { verdict: { reward: 1 } }),
        closeSession: (req) => (known(req.sessionId), sessions.delete(req.sessionId), {}),
      }),
      hosted(EpisodeService, {
        reset: () => ({ episodeId: open() }),
        step: (req) => (known(req.episodeId), { reward: 1, observation: name }),
        closeEpisode: (req) => (known(req.episodeId), sessions.delete(req.episodeId), {}),
      }),
    ],
  });
  running.add(server);
  return { name, server, address: server.grpcUrl!.replace(/^grpcs?:\/\//, ""), seen };
}

const startReplicas = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => startReplica(`r${i + 1}`)));
const listOf = (replicas: Replica[], scheme = "grpc") => `${scheme}://${replicas.map((r) => r.address).join(",")}`;
const portOf = (r: Replica) => Number(r.address.split(":").at(-1));
const seeds = (replicas: Replica[]) => replicas.map((r) => r.seen.seeds);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The replica a pinned session id names. */
function holder(replicas: Replica[], id: string): Replica {
  const pin = unpinSession(id);
  const found = replicas.find((r) => r.address === pin?.address);
  if (!found) throw new Error(`session ${id} is not pinned to any of ${replicas.map((r) => r.address).join(", ")}`);
  return found;
}

/** Seeds until every replica has served one (round_robin connects to all of them first). */
async function warmUp(client: Client<typeof ResourcesService>, replicas: Replica[]): Promise<void> {
  await expect
    .poll(async () => (await client.seedSession({}, { timeoutMs: 5_000 }), replicas.every((r) => r.seen.seeds > 0)), { timeout: 10_000, interval: 0 })
    .toBe(true);
}

describe("a grpc peer with several replicas", () => {
  it("spreads calls round-robin over a static list of replicas, about evenly", async () => {
    const replicas = await startReplicas(3);
    const client = clientFor(ResourcesService, listOf(replicas));
    await warmUp(client, replicas);
    const before = seeds(replicas);
    for (let i = 0; i < 60; i++) await client.seedSession({}, { timeoutMs: 5_000 });
    const served = seeds(replicas).map((n, i) => n - before[i]!);
    expect(sum(served)).toBe(60);
    // Round-robin gives each 20; allow for a connection that was not yet ready.
    for (const n of served) expect(n).toBeGreaterThanOrEqual(15);
  });

  it("keeps each session's CallTool, Verify and CloseSession on the replica that seeded it; servers only see their own ids", async () => {
    const replicas = await startReplicas(3);
    const client = clientFor(ResourcesService, listOf(replicas));
    await warmUp(client, replicas);
    const sessionCallsBefore = sum(replicas.map((r) => r.seen.sessionCalls));
    const sessions = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const { sessionId } = await client.seedSession({}, { timeoutMs: 5_000 });
        const outputs = [];
        for (let i = 0; i < 3; i++) outputs.push((await client.callTool({ sessionId, name: "which" }, { timeoutMs: 5_000 })).output);
        expect((await client.verify({ sessionId, response: {} }, { timeoutMs: 5_000 })).verdict?.reward).toBe(1);
        await client.closeSession({ sessionId }, { timeoutMs: 5_000 });
        return { sessionId, outputs };
      }),
    );
    for (const { sessionId, outputs } of sessions) {
      // Opaque to the caller, but pinned to the replica whose id it carries.
      expect(sessionId).toMatch(/^r\d-\d+@127\.0\.0\.1:\d+$/);
      expect(outputs).toEqual(Array(3).fill(holder(replicas, sessionId).name));
      expect(sessionId.startsWith(`${holder(replicas, sessionId).name}-`)).toBe(true);
    }
    expect(sum(replicas.map((r) => r.seen.sessionCalls)) - sessionCallsBefore).toBe(30 * 5);
    for (const r of replicas) {
      expect(r.seen.unknown).toBe(0);
      expect(r.seen.ids.every((id) => !id.includes("@"))).toBe(true);
    }
    // The sessions were spread too.
    expect(new Set(sessions.map((s) => holder(replicas, s.sessionId).name)).size).toBe(3);
  });

  it("keeps each episode's Step and CloseEpisode on the replica that ran its Reset", async () => {
    const replicas = await startReplicas(3);
    const address = listOf(replicas);
    await warmUp(clientFor(ResourcesService, address), replicas);
    const episodes = clientFor(EpisodeService, address);
    for (let i = 0; i < 12; i++) {
      const { episodeId } = await episodes.reset({}, { timeoutMs: 5_000 });
      const step = await episodes.step({ episodeId, response: {} }, { timeoutMs: 5_000 });
      expect(step.observation).toBe(holder(replicas, episodeId).name);
      await episodes.closeEpisode({ episodeId }, { timeoutMs: 5_000 });
    }
    for (const r of replicas) expect(r.seen.unknown).toBe(0);
  });

  it("pins over the connections the balanced channel already has: one connection per replica", async () => {
    const replicas = await startReplicas(3);
    const client = clientFor(ResourcesService, listOf(replicas));
    await warmUp(client, replicas);
    for (let i = 0; i < 9; i++) {
      const { sessionId } = await client.seedSession({}, { timeoutMs: 5_000 });
      await client.callTool({ sessionId, name: "x" }, { timeoutMs: 5_000 });
    }
    for (const r of replicas) expect(socketsTo(portOf(r))).toBe(1);
  });

  it("drops a stopped replica (calls go on to the others) and uses it again once it is back on its port", async () => {
    const replicas = await startReplicas(3);
    const client = clientFor(ResourcesService, listOf(replicas));
    await warmUp(client, replicas);
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    await r3.server.close();
    running.delete(r3.server);
    // The channel has seen the connection close (GOAWAY): no call goes to r3 now, none fails.
    const before = seeds([r1, r2]);
    for (let i = 0; i < 30; i++) await client.seedSession({}, { timeoutMs: 5_000 });
    expect(sum(seeds([r1, r2])) - sum(before)).toBe(30);
    expect(seeds([r1, r2]).every((n, i) => n > before[i]!)).toBe(true);

    const back = await startReplica("r3", { port: portOf(r3) });
    // round_robin reconnects within its backoff (at most 2 s) and gives it calls again.
    await expect
      .poll(async () => (await client.seedSession({}, { timeoutMs: 5_000 }), back.seen.seeds), { timeout: 10_000, interval: 50 })
      .toBeGreaterThan(0);
  });

  it("a session whose replica is gone fails with UNAVAILABLE at once, deadline or not, and never reaches another replica", async () => {
    const replicas = await startReplicas(2);
    const client = clientFor(ResourcesService, listOf(replicas));
    await warmUp(client, replicas);
    const { sessionId } = await client.seedSession({}, { timeoutMs: 5_000 });
    const gone = holder(replicas, sessionId);
    const other = replicas.find((r) => r !== gone)!;
    await gone.server.close();
    running.delete(gone.server);
    // A balanced call with this deadline would wait for a ready connection; a pinned one must not.
    const err = await client.callTool({ sessionId, name: "x" }, { timeoutMs: 25_000 }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toContain(`at ${gone.address} that holds this session is unavailable`);
    await expect(client.verify({ sessionId, response: {} }, { timeoutMs: 25_000 })).rejects.toMatchObject({ code: Code.Unavailable });
    expect(other.seen.ids).not.toContain(unpinSession(sessionId)!.id);
    expect(other.seen.unknown).toBe(0);
    // A new session goes to the replica that is left.
    expect(holder(replicas, (await client.seedSession({}, { timeoutMs: 5_000 })).sessionId)).toBe(other);

    // A new server on the gone replica's port does not have the session: ABORTED, never a silent new state.
    const again = await startReplica(gone.name, { port: portOf(gone) });
    await expect
      .poll(() => client.callTool({ sessionId, name: "x" }, { timeoutMs: 5_000 }).then(() => -1, (e: unknown) => ConnectError.from(e).code), { timeout: 10_000, interval: 50 })
      .toBe(Code.Aborted);
    expect(again.seen.ids).toContain(unpinSession(sessionId)!.id);
  });

  it("sends an id without a pin through the balanced channel as it is", async () => {
    const replicas = await startReplicas(2);
    const client = clientFor(ResourcesService, listOf(replicas));
    await warmUp(client, replicas);
    for (const id of ["plain", "user@example.com", "r1-0@not-an-address:1"]) {
      await expect(client.callTool({ sessionId: id, name: "x" }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: Code.Aborted });
      expect(replicas.flatMap((r) => r.seen.ids)).toContain(id);
    }
  });

  it("takes the list as a YAML list too, and reaches a single replica by DNS name (grpc://localhost, dns:///localhost), pinning to the address that answered", async () => {
    const replicas = await startReplicas(2);
    const yamlList = parsePeerAddress(replicas.map((r) => `grpc://${r.address}`));
    const client = createClient(ResourcesService, createGrpcPeerTransport(grpcPeer(yamlList)));
    await warmUp(client, replicas);

    for (const address of [`grpc://localhost:${portOf(replicas[0]!)}`, `dns:///localhost:${portOf(replicas[0]!)}`]) {
      const byName = clientFor(ResourcesService, address);
      const { sessionId } = await byName.seedSession({}, { timeoutMs: 5_000 });
      // localhost resolves to loopback; the replica listens on 127.0.0.1.
      expect(holder(replicas, sessionId)).toBe(replicas[0]);
      expect((await byName.callTool({ sessionId, name: "x" }, { timeoutMs: 5_000 })).output).toBe("r1");
    }
    expect(replicas[0]!.seen.unknown).toBe(0);
  });
});

describe("a DNS name of several replicas", () => {
  const NAME = "replicas.gym-mesh.test";
  const lookup = dns.promises.lookup;
  let addresses: string[] = [];
  afterAll(() => {
    dns.promises.lookup = lookup;
  });

  it("is looked up again: an address added to the name gets calls, one removed gets no new sessions but keeps serving its own", async () => {
    // The system resolver answers for every other name; this one is what the test says (a headless Service's A records).
    dns.promises.lookup = (async (hostname: string, options: unknown) => {
      if (hostname !== NAME) return (lookup as (h: string, o: unknown) => Promise<unknown>)(hostname, options);
      return addresses.map((address) => ({ address, family: 4 }));
    }) as typeof dns.promises.lookup;
    const port = await freePortOnAll(["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    const replicas = await Promise.all(["127.0.0.1", "127.0.0.2", "127.0.0.3"].map((host, i) => startReplica(`r${i + 1}`, { host, port })));
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    addresses = ["127.0.0.1", "127.0.0.2"];
    const peer = grpcPeer(parsePeerAddress(`grpc://${NAME}:${port}`));
    const client = createClient(ResourcesService, createGrpcPeerTransport(peer, { refreshMs: 100, channelOptions: { "grpc.dns_min_time_between_resolutions_ms": 100 } }));
    await warmUp(client, [r1, r2]);
    const { sessionId } = await client.seedSession({}, { timeoutMs: 5_000 });
    const onR1 = holder(replicas, sessionId) === r1 ? sessionId : (await client.seedSession({}, { timeoutMs: 5_000 })).sessionId;
    expect(holder(replicas, onR1)).toBe(r1);
    expect(r3.seen.seeds).toBe(0);

    // A scale-up: the name gains an address, and nothing failed.
    addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    await expect.poll(async () => (await client.seedSession({}, { timeoutMs: 5_000 }), r3.seen.seeds), { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);

    // r1 is taken out of the name (a terminating pod): new sessions go to the others...
    addresses = ["127.0.0.2", "127.0.0.3"];
    await expect
      .poll(
        async () => {
          const before = r1.seen.seeds;
          for (let i = 0; i < 6; i++) await client.seedSession({}, { timeoutMs: 5_000 });
          return r1.seen.seeds - before;
        },
        { timeout: 10_000, interval: 20 },
      )
      .toBe(0);
    const before = seeds(replicas);
    for (let i = 0; i < 20; i++) await client.seedSession({}, { timeoutMs: 5_000 });
    expect(seeds(replicas).map((n, i) => n - before[i]!)).toEqual([0, expect.any(Number), expect.any(Number)]);
    // ...while its open session still reaches it.
    expect((await client.callTool({ sessionId: onR1, name: "x" }, { timeoutMs: 5_000 })).output).toBe("r1");
    for (const r of replicas) expect(r.seen.unknown).toBe(0);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)("a grpcs:// list of replicas", () => {
  it("checks each replica's certificate against the list's names, and pins sessions over TLS", async () => {
    const pki = makeCertificates();
    const securityOf = (name: string): MeshSecurity => ({ tls: { cert: pki.cert(name), key: pki.key(name), ca: pki.ca } });
    // a's certificate is for its IP only, b's for the name localhost only, the impostor's for neither.
    const [a, b, impostor] = await Promise.all([
      startReplica("a", { security: securityOf("ip") }),
      startReplica("b", { security: securityOf("localhost") }),
      startReplica("impostor", { security: securityOf("elsewhere") }),
    ]);
    const address = `grpcs://${a!.address},localhost:${portOf(b!)},localhost:${portOf(impostor!)}`;
    const client = createClient(ResourcesService, createGrpcPeerTransport(grpcPeer(parsePeerAddress(address)), { security: securityOf("localhost") }));
    await warmUp(client, [a!, b!]);
    for (let i = 0; i < 10; i++) {
      const { sessionId } = await client.seedSession({}, { timeoutMs: 5_000 });
      expect((await client.callTool({ sessionId, name: "x" }, { timeoutMs: 5_000 })).output).toBe(holder([a!, b!], sessionId).name);
    }
    expect(impostor!.seen.seeds).toBe(0);
    expect(a!.seen.unknown + b!.seen.unknown).toBe(0);
  });
});

function grpcPeer(address: PeerAddress): Extract<PeerAddress, { kind: "grpc" }> {
  if (address.kind !== "grpc") throw new Error("not a grpc address");
  return address;
}

/** Connections open to a server's port, counted on the server's side (grpc-js unrefs its client sockets). */
function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof net.Socket && h.localPort === port && !h.destroyed).length;
}

/** A port free on every one of these loopback addresses. */
async function freePortOnAll(hosts: string[]): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const servers: net.Server[] = [];
    let port = 0;
    try {
      for (const host of hosts) {
        const server = net.createServer();
        servers.push(server);
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
        port = (server.address() as net.AddressInfo).port;
      }
      return port;
    } catch {
      // Taken on one of them: another port.
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error(`no port free on all of ${hosts.join(", ")}`);
}

/** A CA and certificates signed by it: for IP 127.0.0.1, for the name localhost, for the name elsewhere (openssl). */
function makeCertificates() {
  const at = fs.mkdtempSync(path.join(os.tmpdir(), "gym-peer-pki-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: at, stdio: "pipe", timeout: 20_000 });
  // EC keys: quick to make (RSA keys would cost the other tests' CPU).
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=gym peer test CA");
  for (const [name, san] of [["ip", "IP:127.0.0.1"], ["localhost", "DNS:localhost"], ["elsewhere", "DNS:elsewhere"]] as const) {
    ssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    fs.writeFileSync(path.join(at, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`);
  }
  const read = (f: string) => fs.readFileSync(path.join(at, f));
  return { ca: read("ca.pem"), cert: (name: string) => read(`${name}.pem`), key: (name: string) => read(`${name}.key`) };
}
