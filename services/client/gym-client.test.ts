// createGymClient against a real mesh in this process, on both URL kinds
// (http:// main port, grpc:// grpc-js port), and against tiny servers that
// record what arrives (headers, resent requests) or fail on purpose.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService, type RunRequest } from "../../gen/gymmesh/v1/agent_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { CollectResponseSchema, RolloutService, type CollectRequest, type CollectResponse } from "../../gen/gymmesh/v1/rollout_pb.js";
import { RolloutSchema, VerdictSchema } from "../../gen/gymmesh/v1/task_pb.js";
import { hosted, serve, type RunningServer } from "../mesh/serve.js";
import { taskFromJson } from "../openai/responses-json.js";
import type { RunningMesh } from "../app/start.js";
import { EXAMPLE_DATA, ROOT, readJsonl, run, startDefaultMesh } from "../../testing/helpers.js";
import { BadUrlError, createGymClient, GymError, type CollectResult, type GymClient } from "./index.js";

const AGENT = "example_single_tool_call_simple_agent";
const rows = readJsonl(EXAMPLE_DATA);
let mesh: RunningMesh;
const urls: Record<"http" | "grpc", { agent: string; rollout: string }> = { http: { agent: "", rollout: "" }, grpc: { agent: "", rollout: "" } };
const clients: GymClient[] = [];

/** A client closed after the tests. */
function client(...args: Parameters<typeof createGymClient>): GymClient {
  const gym = createGymClient(...args);
  clients.push(gym);
  return gym;
}

beforeAll(async () => {
  mesh = await startDefaultMesh();
  const agent = mesh.instances.find((i) => i.name === AGENT)!;
  const rollout = mesh.instances.find((i) => i.kind === "rollout")!;
  urls.http = { agent: agent.url, rollout: rollout.url };
  urls.grpc = { agent: agent.server.grpcUrl!, rollout: rollout.server.grpcUrl! };
});
afterAll(async () => {
  for (const gym of clients) gym.close();
  await mesh?.close();
});

async function all<T>(results: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of results) out.push(r);
  return out;
}

describe.each(["http", "grpc"] as const)("against a mesh over %s://", (scheme) => {
  it("runs a raw row: the output line and the typed rollout", async () => {
    const gym = client(urls[scheme].agent);
    expect(urls[scheme].agent.startsWith(`${scheme}://`)).toBe(true);
    const result = await gym.run(rows[0]!, { rolloutId: "row-0" });
    expect(result.reward).toBe(1);
    expect(result.line.reward).toBe(1);
    expect(result.line.responses_create_params).toEqual(rows[0]!.responses_create_params);
    expect(result.agent).toBe(AGENT);
    expect(JSON.parse(result.outputLineJson)).toEqual(result.line);
    expect(result.rollout.rolloutId).toBe("row-0");
    expect(result.rollout.verdict?.reward).toBe(1);
  });

  it("runs a JSONL line as it is, and a typed task", async () => {
    const gym = client(urls[scheme].agent);
    const fromLine = await gym.run(`${JSON.stringify(rows[1])}\n`);
    expect(fromLine.line.responses_create_params).toEqual(rows[1]!.responses_create_params);
    const fromTask = await gym.run(taskFromJson(rows[0]));
    expect(fromTask.rollout.verdict?.reward).toBe(1);
    expect(fromTask.rollout.steps).toBe(2);
  });

  it("gives typed clients of every service on one transport", async () => {
    const gym = client(urls[scheme].agent);
    await gym.check();
    const { rollout } = await gym.agent.run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    expect(rollout?.verdict?.reward).toBe(1);
    const resources = client(scheme === "http" ? mesh.url("example_single_tool_call") : mesh.instances.find((i) => i.name === "example_single_tool_call")!.server.grpcUrl!);
    const { tools } = await resources.resources.listTools({});
    expect(tools.map((t) => t.name)).toEqual(["get_weather"]);
  });

  it("collects every (row, repeat) exactly once, numbered from first_repeat", async () => {
    const gym = client(urls[scheme].rollout);
    const results = await all(gym.collect(rows, { repeats: 3, maxInFlight: 4, agent: AGENT }));
    expect(results).toHaveLength(rows.length * 3);
    expect(results.every((r) => r.ok && r.error === undefined)).toBe(true);
    const seen = results.map((r) => `${r.index}/${r.repeat}`).sort();
    expect(seen).toEqual(rows.flatMap((_, i) => [0, 1, 2].map((k) => `${i}/${k}`)).sort());
    for (const r of results) {
      expect(r.line!._ng_task_index).toBe(r.index);
      expect(r.line!._ng_rollout_index).toBe(r.repeat);
      expect(r.line!.responses_create_params).toEqual(rows[r.index]!.responses_create_params);
      expect(r.agent).toBe(AGENT);
      expect(r.reward).toBe(r.line!.reward);
    }
  });

  it("yields a failure for a row that cannot run, and goes on; typed tasks give typed rollouts", async () => {
    const gym = client(urls[scheme].rollout);
    async function* tasks() {
      yield rows[0]!;
      yield { no: "responses_create_params" };
      yield taskFromJson(rows[1]);
    }
    const results = await all(gym.collect(tasks(), { repeats: 2, agent: AGENT }));
    const byIndex = (i: number) => results.filter((r) => r.index === i);
    expect(results).toHaveLength(6);
    expect(byIndex(0).every((r) => r.ok && r.line?.reward === 1)).toBe(true);
    for (const bad of byIndex(1)) {
      expect(bad.ok).toBe(false);
      expect(bad.error?.code).toBe(Code.InvalidArgument);
      expect(bad.line).toMatchObject({ no: "responses_create_params", _ng_task_index: 1, _ng_rollout_index: bad.repeat, error: { code: "invalid_argument" } });
      expect(bad.reward).toBeUndefined();
    }
    expect(byIndex(2).map((r) => r.rollout?.verdict?.reward)).toEqual([1, 1]);
    expect(byIndex(2).every((r) => r.line === undefined)).toBe(true);
  });
});

describe("gym collect --url (the CLI uses this client)", () => {
  it("collects through a running rollout service's http:// URL, and calls a bad URL a usage error", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-url-"));
    try {
      const gym = path.join(ROOT, "bin/gym.js");
      const out = path.join(dir, "rollouts.jsonl");
      const res = await run(process.execPath, [gym, "collect", "--url", urls.http.rollout, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out, "--num-repeats", "2"]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^10 rollouts, mean reward 1\.0000, 0 failed/m);
      expect(readJsonl(out)).toHaveLength(10);
      const bad = await run(process.execPath, [gym, "collect", "--url", "localhost:1", "-a", AGENT, "-i", EXAMPLE_DATA, "-o", out]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^gym: --url: gym-mesh: bad URL "localhost:1": .*want http:\/\/HOST:PORT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("errors", () => {
  it("refuses a URL that is not an instance's, saying what is wanted", () => {
    for (const bad of ["localhost:8080", "ftp://h:1", "grpc://127.0.0.1", "http://h:1/some/path", "", "grpcs://h"]) {
      expect(() => createGymClient(bad), bad).toThrow(BadUrlError);
    }
    expect(() => createGymClient("localhost:8080")).toThrow(/bad URL "localhost:8080": .*want http:\/\/HOST:PORT or grpc:\/\/HOST:PORT/);
    expect(() => createGymClient("grpcs://h")).toThrow(/grpcs:\/\/ needs a port/);
    expect(() => createGymClient("http://h:1", { tls: { ca: "x" } })).toThrow(/TLS options need an https:\/\/ or grpcs:\/\/ URL/);
    expect(() => createGymClient("grpc://h:1", { tls: { ca: "x" } })).toThrow(/TLS options need an https:\/\/ or grpcs:\/\/ URL/);
    expect(() => createGymClient("http://h:1", { token: "a\nb" })).toThrow(TypeError);
  });

  it.each(["http", "grpc"])("names the URL when nothing listens there (%s://)", async (scheme) => {
    const port = await freePort();
    const gym = client(`${scheme}://127.0.0.1:${port}`, { retry: { attempts: 2, initialBackoffMs: 10 } });
    const err = await gym.run(rows[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GymError);
    expect(err).toBeInstanceOf(ConnectError);
    expect(new ConnectError("x") instanceof GymError).toBe(false);
    expect((err as GymError).code).toBe(Code.Unavailable);
    expect((err as GymError).message).toContain(`cannot reach ${scheme}://127.0.0.1:${port}`);
    expect((err as GymError).message).toContain("gave up after 2 tries");
  });

  it("says which instance to use when the URL serves another service", async () => {
    const gym = client(urls.http.rollout);
    const err = (await gym.run(rows[0]!).catch((e: unknown) => e)) as GymError;
    expect(err.code).toBe(Code.Unimplemented);
    expect(err.message).toContain("does not serve gymmesh.v1.AgentService");
    expect(err.message).toContain("pass the URL of an agent instance");
  });
});

describe("against tiny servers", () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  /** serve() with these services on both ports. */
  async function tiny(services: Parameters<typeof serve>[0]["services"]): Promise<RunningServer> {
    const server = await serve({ name: "tiny", services, grpcPort: 0, drainTimeoutMs: 100 });
    servers.push(server);
    return server;
  }

  it("sends the token as `authorization: Bearer ...` on every call, on both ports", async () => {
    const seen: (string | null)[] = [];
    const server = await tiny([
      hosted(ResourcesService, {
        listTools: (_req: unknown, ctx: HandlerContext) => {
          seen.push(ctx.requestHeader.get("authorization"));
          return {};
        },
      }),
    ]);
    for (const url of [server.url, server.grpcUrl!]) {
      const gym = client(url, { token: "s3cret" });
      await gym.resources.listTools({});
      await gym.resources.listTools({}, { headers: { "x-other": "1" } });
    }
    await client(server.url).resources.listTools({});
    expect(seen).toEqual(["Bearer s3cret", "Bearer s3cret", "Bearer s3cret", "Bearer s3cret", null]);
  });

  it("run() retries UNAVAILABLE, sends x-request-id, and keeps the default timeout", async () => {
    const calls: { requestId: string | null; timeout: number | undefined; request: RunRequest }[] = [];
    const server = await tiny([
      hosted(AgentService, {
        run: (request: RunRequest, ctx: HandlerContext) => {
          calls.push({ requestId: ctx.requestHeader.get("x-request-id"), timeout: ctx.timeoutMs(), request });
          if (calls.length === 1) throw new ConnectError("restarting", Code.Unavailable);
          const line = { ...JSON.parse(request.input.value as string), reward: 0.5, agent_ref: { name: "fake" } };
          return { rollout: create(RolloutSchema, { verdict: create(VerdictSchema, { reward: 0.5 }) }), outputLineJson: JSON.stringify(line) };
        },
      }),
    ]);
    for (const url of [server.url, server.grpcUrl!]) {
      calls.length = 0;
      const gym = client(url, { timeoutMs: 20_000, retry: { initialBackoffMs: 10 } });
      const result = await gym.run({ responses_create_params: { input: "hi" } }, { requestId: "req-7" });
      expect(result).toMatchObject({ reward: 0.5, agent: "fake", line: { responses_create_params: { input: "hi" }, reward: 0.5 } });
      expect(calls).toHaveLength(2);
      expect(calls.map((c) => c.requestId)).toEqual(["req-7", "req-7"]);
      expect(calls.every((c) => c.timeout !== undefined && c.timeout > 15_000 && c.timeout <= 20_000)).toBe(true);
      expect(calls[1]!.request.wantOutputLine).toBe(true);
      expect(calls[1]!.request.input.case).toBe("rowJson");
    }
  });

  it("collect() resumes a broken stream: only the unanswered rollouts are sent again, each yielded once", async () => {
    const streams: CollectRequest[][] = [];
    const server = await tiny([
      hosted(RolloutService, {
        async *collect(requests: AsyncIterable<CollectRequest>) {
          const got: CollectRequest[] = [];
          streams.push(got);
          const first = streams.length === 1;
          for await (const req of requests) {
            got.push(req);
            // The first stream answers two rollouts, then breaks (a restart).
            if (first && got.length === 3) throw new ConnectError("going away", Code.Unavailable);
            if (!first || got.length <= 2) yield answer(req);
          }
        },
      }),
    ]);
    for (const url of [server.url, server.grpcUrl!]) {
      streams.length = 0;
      const gym = client(url, { retry: { initialBackoffMs: 10 } });
      const input = Array.from({ length: 4 }, (_, i) => ({ responses_create_params: { input: `q${i}` } }));
      const results: CollectResult[] = await all(gym.collect(input, { repeats: 2, maxInFlight: 3 }));
      expect(results.map((r) => `${r.index}/${r.repeat}`).sort()).toEqual(["0/0", "0/1", "1/0", "1/1", "2/0", "2/1", "3/0", "3/1"]);
      expect(streams).toHaveLength(2);
      const ids = (s: CollectRequest[]) => s.map((r) => r.taskId);
      const answeredFirst = ids(streams[0]!).slice(0, 2);
      // Every rollout went out, and only the unanswered ones twice.
      expect(new Set([...ids(streams[0]!), ...ids(streams[1]!)]).size).toBe(8);
      expect(ids(streams[1]!).some((id) => answeredFirst.includes(id))).toBe(false);
      for (const req of streams[1]!) {
        expect(req.numRepeats).toBe(1);
        expect(`${req.taskIndex}.${req.firstRepeat}`).toBe(req.taskId);
        expect(req.wantOutputLines).toBe(true);
      }
    }
  });

  it("collect() stops the stream when the caller stops reading, and fails with the tasks' own error", async () => {
    let cancelled = 0;
    const server = await tiny([
      hosted(RolloutService, {
        async *collect(requests: AsyncIterable<CollectRequest>, ctx: HandlerContext) {
          ctx.signal.addEventListener("abort", () => cancelled++);
          for await (const req of requests) yield answer(req);
        },
      }),
    ]);
    const gym = client(server.url);
    const endless = function* () {
      for (let i = 0; ; i++) yield { responses_create_params: { input: `q${i}` } };
    };
    let n = 0;
    for await (const _ of gym.collect(endless(), { maxInFlight: 2 })) if (++n === 5) break;
    expect(n).toBe(5);
    await waitFor(() => cancelled === 1);

    const failing = function* () {
      yield { responses_create_params: { input: "q" } };
      throw new Error("bad input file");
    };
    await expect(all(gym.collect(failing()))).rejects.toThrow("bad input file");
    expect(() => gym.collect([], { repeats: 0 })).toThrow(RangeError);
  });
});

describe("TLS", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-tls-"));
  const hasOpenssl = (() => {
    try {
      execFileSync("openssl", ["version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasOpenssl)("calls an https:// instance that asks for a client certificate (mTLS), trusting the given CA", async () => {
    const pem = makeCertificates(dir);
    const seen: string[] = [];
    const adapter = connectNodeAdapter({
      routes: (router) =>
        router.service(ResourcesService, {
          listTools: (_req, ctx) => {
            seen.push(ctx.requestHeader.get("authorization") ?? "");
            return {};
          },
        }),
    });
    const server = http2.createSecureServer({ key: pem.serverKey, cert: pem.serverCert, ca: pem.ca, requestCert: true, rejectUnauthorized: true }, adapter);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const gym = client(url, { token: "t", tls: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey, serverName: "localhost" } });
      await gym.resources.listTools({});
      expect(seen).toEqual(["Bearer t"]);
      // Without the client certificate, the server refuses the handshake.
      const anonymous = client(url, { tls: { ca: pem.ca, serverName: "localhost" }, retry: { attempts: 1 } });
      await expect(anonymous.resources.listTools({}, { timeoutMs: 5_000 })).rejects.toThrow();
      // Without the CA, the client refuses the server.
      const untrusting = client(url, { tls: { serverName: "localhost" } });
      await expect(untrusting.resources.listTools({}, { timeoutMs: 5_000 })).rejects.toThrow(/certificate/i);
    } finally {
      for (const gym of clients.splice(-3)) gym.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

function answer(req: CollectRequest): CollectResponse {
  const line = { ...JSON.parse(req.input.value as string), reward: 1, _ng_task_index: Number(req.taskIndex), _ng_rollout_index: req.firstRepeat };
  return create(CollectResponseSchema, { taskId: req.taskId, repeatIndex: req.firstRepeat, agent: "fake", outcome: { case: "outputLineJson", value: JSON.stringify(line) } });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitFor(ok: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A CA, a server certificate for localhost and a client certificate, signed by it (openssl). */
function makeCertificates(dir: string) {
  const at = (f: string) => path.join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe", timeout: 20_000 });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=gym test CA");
  for (const name of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name === "server" ? "localhost" : "gym client"}`);
    fs.writeFileSync(at(`${name}.ext`), name === "server" ? "subjectAltName=DNS:localhost,IP:127.0.0.1\n" : "extendedKeyUsage=clientAuth\n");
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`);
  }
  const read = (f: string) => fs.readFileSync(at(f), "utf8");
  return { ca: read("ca.pem"), serverKey: read("server.key"), serverCert: read("server.pem"), clientKey: read("client.key"), clientCert: read("client.pem") };
}
