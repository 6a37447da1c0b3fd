// Every input is bounded (mesh/kind.ts `limits`, the resources and rollout
// caps), and errors have the shapes gRPC, Connect and HTTP users expect: size
// and gzip bombs on every port and protocol, over-deep JSON, malformed
// cookies, wrong content types, unknown methods, undecodable protobuf, silent
// and surplus connections, idle and over-pinging HTTP/2 sessions, session
// caps, num_repeats and tasks that name no agent. Loopback only, bounded waits.
import * as fs from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService, RunRequestSchema } from "../gen/gymmesh/v1/agent_pb.js";
import { ResourcesService } from "../gen/gymmesh/v1/resources_pb.js";
import { CollectRequestSchema, RolloutService, type CollectResponse } from "../gen/gymmesh/v1/rollout_pb.js";
import { RolloutSchema, TaskSchema } from "../gen/gymmesh/v1/task_pb.js";
import { loadConfig } from "../services/app/config.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";
import { environments } from "../services/environments/index.js";
import { clientFor } from "../services/mesh/clients.js";
import { jsonTooDeep } from "../services/mesh/json-depth.js";
import { DEFAULT_LIMITS, type Limits } from "../services/mesh/kind.js";
import { setQuiet } from "../services/mesh/log.js";
import { hosted, serve, type RunningServer } from "../services/mesh/serve.js";
import { createResourcesHost } from "../services/resources/host.js";
import { createRolloutHost } from "../services/rollout/rollout-service.js";
import { ROOT } from "../testing/helpers.js";

setQuiet(true);

const MiB = 1024 * 1024;
const limitsWith = (l: Partial<Limits>): Limits => ({ ...DEFAULT_LIMITS, ...l });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds (polling), at most `ms`; false if it never did. */
async function until(check: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/**
 * A gzip body that decompresses to `prefix` + `size` bytes of "a": one small
 * member per MiB (gzip allows concatenated members), about 1 KB each.
 */
function gzipBomb(prefix: Buffer, size: number): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(MiB, 0x61), { level: 9 });
  return Buffer.concat([zlib.gzipSync(prefix), ...Array.from({ length: Math.ceil(size / MiB) }, () => member)]);
}

const BOMB_SIZE = 200 * MiB;
/** RunRequest { row_json: 200 MiB of "a" }, gzipped: protobuf binary. */
const protoBomb = () => gzipBomb(Buffer.concat([Buffer.from([0x1a]), varint(BOMB_SIZE)]), BOMB_SIZE);
/** {"rowJson": "aaaa..."} gzipped: Connect JSON. */
const jsonBomb = () => gzipBomb(Buffer.from('{"rowJson":"'), BOMB_SIZE);

/** A gRPC call by hand over HTTP/2 (one message, maybe compressed): the status it ends with. */
async function rawGrpc(url: string, rpcPath: string, message: Buffer, compressed: boolean): Promise<{ grpcStatus?: string; message?: string }> {
  const session = http2.connect(url);
  session.on("error", () => undefined);
  const envelope = Buffer.alloc(5 + message.length);
  envelope[0] = compressed ? 1 : 0;
  envelope.writeUInt32BE(message.length, 1);
  message.copy(envelope, 5);
  try {
    return await new Promise((resolve) => {
      const result: { grpcStatus?: string; message?: string } = {};
      const headers: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": rpcPath, "content-type": "application/grpc", te: "trailers" };
      if (compressed) headers["grpc-encoding"] = "gzip";
      const req = session.request(headers);
      const read = (h: http2.IncomingHttpHeaders) => {
        if (h["grpc-status"] !== undefined) {
          result.grpcStatus = String(h["grpc-status"]);
          result.message = decodeURIComponent(String(h["grpc-message"] ?? ""));
        }
      };
      req.on("response", read);
      req.on("trailers", read);
      req.on("data", () => undefined);
      req.on("error", () => undefined);
      req.on("close", () => resolve(result));
      req.end(envelope);
    });
  } finally {
    session.close();
  }
}

/** A grpc-js port's `grpc://host:port` as an http:// URL for a raw HTTP/2 client. */
const h2Url = (server: RunningServer) => server.grpcUrl!.replace(/^grpc:/, "http:");

/** Over-deep JSON: `[[[...]]]` nested `depth` times. */
const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("message size: 4 MiB by default, after decompression, on both ports and every protocol", () => {
  let server: RunningServer;
  let runs = 0;
  beforeAll(async () => {
    server = await serve({ name: "bounded", grpcPort: 0, services: [hosted(AgentService, { run: () => (runs++, {}) })] });
  });
  afterAll(() => server.close());

  const rssGrowth = async (work: () => Promise<void>) => {
    const before = process.memoryUsage().rss;
    await work();
    return process.memoryUsage().rss - before;
  };

  it("a gzip bomb (200 MiB inside ~200 KB) is RESOURCE_EXHAUSTED on Connect binary and JSON, cheaply", async () => {
    for (const [type, body] of [
      ["application/proto", protoBomb()],
      ["application/json", jsonBomb()],
    ] as const) {
      expect(body.length).toBeLessThan(400_000);
      let answer: { status: number; json: { code?: string; message?: string } } | undefined;
      const growth = await rssGrowth(async () => {
        const res = await fetch(`${server.url}/gymmesh.v1.AgentService/Run`, {
          method: "POST",
          headers: { "content-type": type, "content-encoding": "gzip", "connect-protocol-version": "1" },
          body: new Uint8Array(body),
        });
        answer = { status: res.status, json: (await res.json()) as { code?: string } };
      });
      expect(answer!.json.code, type).toBe("resource_exhausted");
      expect(answer!.status).toBe(429); // Connect's status for resource_exhausted
      expect(growth).toBeLessThan(100 * MiB);
    }
    expect(runs).toBe(0);
  });

  it("a gzip bomb is RESOURCE_EXHAUSTED over gRPC on the main port and on the grpc-js port, cheaply", async () => {
    const bomb = protoBomb();
    for (const url of [server.url, h2Url(server)]) {
      let result: { grpcStatus?: string; message?: string } = {};
      const growth = await rssGrowth(async () => {
        result = await rawGrpc(url, "/gymmesh.v1.AgentService/Run", bomb, true);
      });
      expect(result.grpcStatus, url).toBe(String(Code.ResourceExhausted));
      expect(growth).toBeLessThan(100 * MiB);
    }
    expect(runs).toBe(0);
  });

  it("a plain message over 4 MiB is RESOURCE_EXHAUSTED on every transport; one under it goes through", async () => {
    const big = create(RunRequestSchema, { input: { case: "rowJson", value: "a".repeat(4 * MiB + 1) } });
    const clients: Array<[string, Client<typeof AgentService>]> = [
      ["gRPC, main port", clientFor(AgentService, server.url)],
      ["gRPC, grpc-js port", clientFor(AgentService, server.grpcUrl!)],
      ["Connect binary", createClient(AgentService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }))],
      ["Connect JSON", createClient(AgentService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false }))],
    ];
    for (const [what, client] of clients) {
      await expect(client.run(big), what).rejects.toMatchObject({ code: Code.ResourceExhausted });
      await client.run({ input: { case: "rowJson", value: "a".repeat(MiB) } });
    }
    expect(runs).toBe(clients.length);
  });

  it("the cap is the instance's: max_message_bytes", async () => {
    const small = await serve({ name: "small", grpcPort: 0, services: [hosted(AgentService, { run: () => ({}) })], limits: limitsWith({ max_message_bytes: 1000 }) });
    const req = { input: { case: "rowJson" as const, value: "a".repeat(2000) } };
    await expect(clientFor(AgentService, small.url).run(req)).rejects.toMatchObject({ code: Code.ResourceExhausted });
    await expect(clientFor(AgentService, small.grpcUrl!).run(req)).rejects.toMatchObject({ code: Code.ResourceExhausted });
    await small.close();
  });
});

describe("error shapes on the main port", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ name: "resources_only", grpcPort: 0, services: [hosted(ResourcesService, { listTools: () => ({ tools: [] }) })] });
  });
  afterAll(() => server.close());

  it("an unknown method is UNIMPLEMENTED for gRPC, Connect and grpc-js callers alike", async () => {
    const callers: Array<[string, Client<typeof AgentService>]> = [
      ["gRPC, main port", clientFor(AgentService, server.url)],
      ["gRPC, grpc-js port", clientFor(AgentService, server.grpcUrl!)],
      ["Connect", createClient(AgentService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }))],
      ["Connect over HTTP/2", createClient(AgentService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }))],
    ];
    for (const [what, client] of callers) {
      const err = await client.run({}).catch((e: unknown) => ConnectError.from(e));
      expect(err, what).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code, what).toBe(Code.Unimplemented);
    }
    // A streaming Connect call gets its end-stream error.
    const stream = createClient(AgentService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" })).runStream({});
    await expect((async () => { for await (const _ of stream); })()).rejects.toMatchObject({ code: Code.Unimplemented });
    // Plain HTTP paths still get the plain 404.
    const res = await fetch(`${server.url}/v1/nothing`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
    expect(res.headers.get("grpc-status")).toBeNull();
  });

  it("a raw gRPC request for an unknown method gets grpc-status 12, trailers-only", async () => {
    const result = await rawGrpc(server.url, "/gymmesh.v1.AgentService/Run", Buffer.alloc(0), false);
    expect(result.grpcStatus).toBe("12");
  });

  it("protobuf garbage is invalid_argument on Connect unary, not internal", async () => {
    const res = await fetch(`${server.url}/gymmesh.v1.ResourcesService/ListTools`, {
      method: "POST",
      headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
      body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x02]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
    // A good request still answers.
    const ok = await fetch(`${server.url}/gymmesh.v1.ResourcesService/ListTools`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
      body: "{}",
    });
    expect(ok.status).toBe(200);
  });

  it("protobuf garbage in a Connect stream ends it with invalid_argument", async () => {
    const rollout = await serve({ name: "rollout", services: [hosted(RolloutService, createRolloutHost({ agents: new Map(), maxInFlight: 4 }).impl)] });
    const session = http2.connect(rollout.url);
    session.on("error", () => undefined);
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x02]);
    const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, garbage.length]), garbage]);
    const req = session.request({ ":method": "POST", ":path": "/gymmesh.v1.RolloutService/Collect", "content-type": "application/connect+proto" });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    await new Promise<void>((r) => (req.on("close", () => r()), req.on("error", () => r()), req.end(envelope)));
    session.close();
    const body = Buffer.concat(chunks);
    expect(body[0]).toBe(2); // the end-stream message
    expect(JSON.parse(String(body.subarray(5)))).toMatchObject({ error: { code: "invalid_argument" } });
    await rollout.close();
  });

  it("over-deep Connect JSON is invalid_argument", async () => {
    const res = await fetch(`${server.url}/gymmesh.v1.ResourcesService/ListTools`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
      body: `{"x": ${deep(100_000)}}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
  });
});

describe("connections", () => {
  it("a flood of silent sockets is closed after first_bytes_timeout_s while others are served (both ports)", async () => {
    const server = await serve({
      name: "flooded",
      grpcPort: 0,
      services: [hosted(ResourcesService, { listTools: () => ({ tools: [] }) })],
      limits: limitsWith({ first_bytes_timeout_s: 0.5 }),
    });
    for (const port of [server.port, Number(new URL(h2Url(server)).port)]) {
      const sockets: net.Socket[] = [];
      let closed = 0;
      for (let i = 0; i < 2000; i++) {
        const s = net.connect(port, "127.0.0.1");
        s.on("error", () => undefined);
        s.resume(); // read what the server sends (grpc-js: its SETTINGS), so its close is seen
        s.once("close", () => closed++);
        sockets.push(s);
      }
      // Someone else is still served meanwhile, on both ports.
      expect((await clientFor(ResourcesService, server.url).listTools({})).tools).toEqual([]);
      expect((await clientFor(ResourcesService, server.grpcUrl!).listTools({})).tools).toEqual([]);
      expect(await until(() => closed === sockets.length, 10_000), `port ${port}: ${closed} of ${sockets.length} closed`).toBe(true);
    }
    await server.close();
  });

  it("max_connections: a connection past the cap is closed at once, the others stay", async () => {
    const server = await serve({
      name: "capped",
      grpcPort: 0,
      services: [hosted(ResourcesService, { listTools: () => ({ tools: [] }) })],
      limits: limitsWith({ max_connections: 20, first_bytes_timeout_s: 30 }),
    });
    const connect = async (port: number) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => undefined);
      s.resume(); // read what the server sends (grpc-js: its SETTINGS), so its close is seen
      const state = { socket: s, closed: false };
      s.once("close", () => (state.closed = true));
      await new Promise<void>((r) => (s.once("connect", () => r()), s.once("close", () => r())));
      return state;
    };
    for (const port of [server.port, Number(new URL(h2Url(server)).port)]) {
      const held = [];
      for (let i = 0; i < 20; i++) held.push(await connect(port));
      await sleep(200); // the server has accepted them
      const extra = await connect(port);
      expect(await until(() => extra.closed, 3_000), `port ${port}: the 21st connection was not closed`).toBe(true);
      expect(held.filter((h) => h.closed)).toEqual([]);
      // One leaves: there is room again.
      held.pop()!.socket.destroy();
      await sleep(200);
      const next = await connect(port);
      await sleep(300);
      expect(next.closed, `port ${port}: a connection under the cap was closed`).toBe(false);
      for (const h of [...held, next]) h.socket.destroy();
      await sleep(200);
    }
    await server.close();
  });

  it("HTTP/1.1 headers must arrive within headers_timeout_s (408, closed)", async () => {
    const server = await serve({ name: "h1", services: [], limits: limitsWith({ headers_timeout_s: 0.3 }) });
    const socket = net.connect(server.port, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => (answer += String(d)));
    let closed = false;
    socket.once("close", () => (closed = true));
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n"); // the blank line never comes
    expect(await until(() => closed, 5_000)).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    await server.close();
  });

  it("an HTTP/2 session with no call open for http2_idle_timeout_s is closed (both ports); a long call is not cut", async () => {
    const server = await serve({
      name: "idle",
      grpcPort: 0,
      services: [hosted(AgentService, { run: async () => (await sleep(1_200), {}) })],
      limits: limitsWith({ http2_idle_timeout_s: 0.4 }),
    });
    for (const url of [server.url, h2Url(server)]) {
      const session = http2.connect(url);
      session.on("error", () => undefined);
      let closed = false;
      session.once("close", () => (closed = true));
      expect(await until(() => closed, 5_000), url).toBe(true);
    }
    // A call longer than the idle timeout runs to its end.
    await clientFor(AgentService, server.url).run({});
    await clientFor(AgentService, server.grpcUrl!).run({});
    await server.close();
  });

  it("keepalive enforcement: a client pinging too often gets GOAWAY ENHANCE_YOUR_CALM too_many_pings", async () => {
    const server = await serve({ name: "pinged", services: [], limits: limitsWith({ keepalive_min_interval_s: 10 }) });
    const session = http2.connect(server.url);
    session.on("error", () => undefined);
    let goaway: { code: number; data?: string } | undefined;
    session.on("goaway", (code: number, _last: number, data?: Buffer) => (goaway = { code, data: data && String(data) }));
    let closed = false;
    session.once("close", () => (closed = true));
    await new Promise<void>((r) => session.once("connect", () => r()));
    for (let i = 0; i < 5 && !closed; i++) {
      await new Promise<void>((r) => {
        if (!session.ping(() => r())) r();
      });
    }
    expect(await until(() => closed, 5_000)).toBe(true);
    expect(goaway).toMatchObject({ code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, data: "too_many_pings" });
    await server.close();
  });
});

describe("keepalive enforcement spares connections with calls open", () => {
  it("lets a client ping while a call is open (gRPC clients probe bandwidth with pings as data flows)", async () => {
    const server = await serve({ name: "streaming", services: [], limits: limitsWith({ keepalive_min_interval_s: 10 }) });
    const session = http2.connect(server.url);
    session.on("error", () => undefined);
    let goaway = false;
    session.on("goaway", () => (goaway = true));
    await new Promise<void>((r) => session.once("connect", () => r()));
    // A Health.Watch stream stays open until the client ends it.
    const watch = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": "application/grpc", te: "trailers" });
    watch.on("error", () => undefined);
    watch.end(Buffer.from([0, 0, 0, 0, 0]));
    await new Promise<void>((r) => watch.once("response", () => r()));
    for (let i = 0; i < 8; i++) {
      await new Promise<void>((r) => {
        if (!session.ping(() => r())) r();
      });
    }
    expect(goaway).toBe(false);
    expect(session.closed || session.destroyed).toBe(false);
    watch.close();
    session.close();
    await server.close();
  });
});

describe("a mesh from a config with limits", () => {
  let mesh: RunningMesh;
  const rows = fs
    .readFileSync(path.join(ROOT, "services/environments/example_single_tool_call/data/example.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim());
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-limits-"));
    const file = path.join(dir, "mesh.yaml");
    fs.writeFileSync(
      file,
      `instances:
  mock_openai:
    kind: mock_model
  policy_model:
    kind: model
    base_url: mock_openai
    model: mock
  example_single_tool_call:
    kind: resources
    environment: example_single_tool_call
    max_sessions: 3
  example_single_tool_call_simple_agent:
    kind: agent
    model: policy_model
    resources: example_single_tool_call
    limits:
      max_message_bytes: 65536
      max_json_depth: 32
  rollout:
    kind: rollout
`,
    );
    const config = loadConfig(file, {});
    expect(config.instances.example_single_tool_call_simple_agent!.limits).toMatchObject({ max_message_bytes: 65536, max_json_depth: 32, max_connections: 10_000 });
    expect(config.instances.policy_model!.limits).toEqual(DEFAULT_LIMITS);
    mesh = await startMesh(config);
  });
  afterAll(() => mesh.close());

  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("the agent's own limits apply: 413 on /run, RESOURCE_EXHAUSTED on its RPCs; shipped rows pass", async () => {
    const agent = mesh.url("example_single_tool_call_simple_agent");
    const big = JSON.stringify({ ...JSON.parse(rows[0]!), padding: "x".repeat(70_000) });
    expect((await post(`${agent}/run`, big)).status).toBe(413);
    await expect(clientFor(AgentService, agent).run({ input: { case: "rowJson", value: big } })).rejects.toMatchObject({ code: Code.ResourceExhausted });
    const ok = await post(`${agent}/run`, rows[0]!);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { reward: number }).reward).toBeTypeOf("number");
    const { rollout } = await clientFor(AgentService, agent).run({ input: { case: "rowJson", value: rows[0]! } });
    expect(rollout?.verdict).toBeDefined();
  });

  it("over-deep JSON is 400 on /run, /verify, /v1/responses and INVALID_ARGUMENT in row_json", async () => {
    const body = `{"responses_create_params": {"input": "hi"}, "extra": ${deep(20_000)}}`; // under the agent's 64 KiB
    const agent = mesh.url("example_single_tool_call_simple_agent");
    for (const url of [`${agent}/run`, `${mesh.url("example_single_tool_call")}/verify`, `${mesh.url("policy_model")}/v1/responses`]) {
      const res = await post(url, body);
      expect(res.status, url).toBe(400);
      expect(await res.text(), url).toMatch(/deeper than \d+ levels/);
    }
    // The agent's own max_json_depth (32), for a row sent as row_json over gRPC and over Connect JSON.
    const row = JSON.stringify({ ...JSON.parse(rows[0]!), extra: JSON.parse(deep(40)) as unknown });
    await expect(clientFor(AgentService, agent).run({ input: { case: "rowJson", value: row } })).rejects.toMatchObject({ code: Code.InvalidArgument });
    const res = await post(`${agent}/gymmesh.v1.AgentService/Run`, JSON.stringify({ rowJson: row }), { "connect-protocol-version": "1" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("the OpenAI face answers 415 to a body that is not JSON", async () => {
    const res = await fetch(`${mesh.url("policy_model")}/v1/responses`, { method: "POST", headers: { "content-type": "text/plain" }, body: '{"input": "hi"}' });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error" } });
    const chat = await fetch(`${mesh.url("policy_model")}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=b",
    });
    expect(chat.status).toBe(415);
  });

  it("a malformed session cookie is 400", async () => {
    const resources = mesh.url("example_single_tool_call");
    const res = await post(`${resources}/get_weather`, '{"city": "sf"}', { cookie: "gym_session_example_single_tool_call=%E0%A4%A" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ detail: expect.stringMatching(/cookie/) });
  });

  const sessionsOpen = async () => {
    const text = await (await fetch(`${mesh.url("example_single_tool_call")}/metrics`)).text();
    return Number(text.match(/^gym_sessions_open\{[^}]*\} (\d+)/m)?.[1]);
  };

  it("NeMo Gym tool calls and verifies without a cookie leave no session open, even when they fail", async () => {
    const resources = mesh.url("example_single_tool_call");
    expect(await sessionsOpen()).toBe(0);
    for (let i = 0; i < 10; i++) {
      expect((await post(`${resources}/get_weather`, '{"city": "sf"}')).status).toBe(200);
      expect((await post(`${resources}/get_weather`, '{"town": 1}')).status).toBe(422); // bad arguments
    }
    const verify = await post(`${resources}/verify`, JSON.stringify({ ...JSON.parse(rows[0]!), response: { output: [] } }));
    expect(verify.status).toBe(200);
    expect(verify.headers.get("set-cookie")).toBeNull();
    expect(await sessionsOpen()).toBe(0);
  });

  it("max_sessions of the resources instance: past it, 429 (RESOURCE_EXHAUSTED) until one closes", async () => {
    const resources = mesh.url("example_single_tool_call");
    const cookies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(`${resources}/seed_session`, rows[0]!);
      expect(res.status).toBe(200);
      cookies.push(res.headers.get("set-cookie")!.split(";")[0]!);
    }
    const refused = await post(`${resources}/seed_session`, rows[0]!);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ detail: expect.stringMatching(/max_sessions/) });
    await expect(clientFor(ResourcesService, resources).seedSession({})).rejects.toMatchObject({ code: Code.ResourceExhausted });
    for (const cookie of cookies) expect((await post(`${resources}/close_session`, "{}", { cookie })).status).toBe(200);
    expect(await sessionsOpen()).toBe(0);
    expect((await post(`${resources}/seed_session`, rows[0]!)).status).toBe(200);
  });
});

describe("limits in a config", () => {
  const write = (text: string) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gym-limits-")), "mesh.yaml");
    fs.writeFileSync(file, text);
    return file;
  };
  it("are checked: a bad value names its path, an old _ms key its new name", () => {
    const mesh = (limits: string) => `instances:\n  r:\n    kind: resources\n    environment: mcqa\n    limits:\n${limits}`;
    expect(() => loadConfig(write(mesh("      max_message_bytes: -1\n")), {})).toThrow(/instances\.r\.limits\.max_message_bytes: /);
    expect(() => loadConfig(write(mesh("      first_bytes_timeout_ms: 500\n")), {})).toThrow(/instances\.r\.limits\.first_bytes_timeout_ms: renamed to first_bytes_timeout_s/);
    expect(loadConfig(write(mesh("      http2_idle_timeout_s: 0\n")), {}).instances.r!.limits).toMatchObject({ http2_idle_timeout_s: 0, max_json_depth: 64 });
  });
});

describe("resources sessions: count and bytes", () => {
  const env = environments.example_single_tool_call!;
  const task = (bytes: number) => create(TaskSchema, { responsesCreateParams: { instructions: "x".repeat(bytes) } });

  it("max_sessions: RESOURCE_EXHAUSTED past the count, room again after a close", async () => {
    const host = createResourcesHost(env, { maxSessions: 2 });
    const a = await host.resources.seedSession({ task: task(10) } as never, {} as never);
    await host.resources.seedSession({ task: task(10) } as never, {} as never);
    await expect(Promise.resolve().then(() => host.resources.seedSession({ task: task(10) } as never, {} as never))).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
    await host.resources.closeSession({ sessionId: a.sessionId } as never, {} as never);
    await host.resources.seedSession({ task: task(10) } as never, {} as never);
    expect(host.openSessions()).toBe(2);
  });

  it("max_session_bytes: a task that would pass the bytes is RESOURCE_EXHAUSTED", async () => {
    const size = toBinary(TaskSchema, task(600)).byteLength;
    const host = createResourcesHost(env, { maxSessionBytes: 2 * size + 10 });
    const a = await host.resources.seedSession({ task: task(600) } as never, {} as never);
    await host.resources.seedSession({ task: task(600) } as never, {} as never);
    await expect(Promise.resolve().then(() => host.resources.seedSession({ task: task(600) } as never, {} as never))).rejects.toMatchObject({
      code: Code.ResourceExhausted,
      message: expect.stringMatching(/max_session_bytes/),
    });
    await host.resources.seedSession({ task: task(1) } as never, {} as never); // a small one still fits
    await host.resources.closeSession({ sessionId: a.sessionId } as never, {} as never);
    await host.resources.seedSession({ task: task(600) } as never, {} as never);
  });
});

describe("rollout service: num_repeats and tasks that name no agent", () => {
  const fakeAgent = (name: string, ran: string[]) =>
    ({
      run: async () => {
        ran.push(name);
        return { rollout: create(RolloutSchema, { verdict: { reward: 1 } }) };
      },
    }) as unknown as Client<typeof AgentService>;
  const task = create(TaskSchema, { responsesCreateParams: {} });

  async function collect(deps: Parameters<typeof createRolloutHost>[0], reqs: Array<MessageInitShape<typeof CollectRequestSchema>>) {
    const server = await serve({ name: "rollout", services: [hosted(RolloutService, createRolloutHost(deps).impl)] });
    const out: CollectResponse[] = [];
    try {
      for await (const r of clientFor(RolloutService, server.url).collect((async function* () {
        for (const req of reqs) yield create(CollectRequestSchema, req);
      })())) {
        out.push(r);
      }
    } finally {
      await server.close();
    }
    return out;
  }

  it("num_repeats above max_repeats fails the task (one INVALID_ARGUMENT result); at it, all run", async () => {
    const ran: string[] = [];
    const agents = new Map([["a", fakeAgent("a", ran)]]);
    const out = await collect({ agents, maxInFlight: 8, maxRepeats: 5 }, [
      { taskId: "big", input: { case: "task", value: task }, numRepeats: 2_000_000_000 },
      { taskId: "ok", input: { case: "task", value: task }, numRepeats: 5 },
    ]);
    const big = out.filter((r) => r.taskId === "big");
    expect(big).toHaveLength(1);
    expect(big[0]!.outcome).toMatchObject({ case: "error", value: { code: Code.InvalidArgument, message: expect.stringMatching(/max_repeats/) } });
    expect(out.filter((r) => r.taskId === "ok" && r.outcome.case === "rollout")).toHaveLength(5);
    expect(ran).toHaveLength(5);
  });

  it("no agent named, several agents, no default_agent: INVALID_ARGUMENT naming them; one agent or a default: it runs", async () => {
    const ran: string[] = [];
    const two = new Map([
      ["alpha", fakeAgent("alpha", ran)],
      ["beta", fakeAgent("beta", ran)],
    ]);
    const row = JSON.stringify({ responses_create_params: { input: "hi" } });
    const refused = await collect({ agents: two, maxInFlight: 4 }, [
      { taskId: "typed", input: { case: "task", value: task } },
      { taskId: "row", input: { case: "rowJson", value: row } },
    ]);
    for (const r of refused) {
      expect(r.outcome).toMatchObject({ case: "error", value: { code: Code.InvalidArgument, message: expect.stringMatching(/names no agent.*alpha, beta/) } });
    }
    expect(ran).toEqual([]);
    // Named in the request or the row: fine.
    const named = await collect({ agents: two, maxInFlight: 4 }, [
      { taskId: "req", input: { case: "task", value: task }, agent: "beta" },
      { taskId: "row", input: { case: "rowJson", value: JSON.stringify({ ...JSON.parse(row), agent_ref: { name: "alpha" } }) } },
    ]);
    expect(named.map((r) => r.outcome.case)).toEqual(["rollout", "rollout"]);
    // A default_agent, or a single agent: used.
    const byDefault = await collect({ agents: two, defaultAgent: "beta", maxInFlight: 4 }, [{ taskId: "d", input: { case: "task", value: task } }]);
    expect(byDefault[0]!.agent).toBe("beta");
    const only = await collect({ agents: new Map([["solo", fakeAgent("solo", ran)]]), maxInFlight: 4 }, [{ taskId: "s", input: { case: "task", value: task } }]);
    expect(only[0]).toMatchObject({ agent: "solo", outcome: { case: "rollout" } });
  });
});

describe("shipped data within the default limits", () => {
  it("every dataset line nests less than max_json_depth and is smaller than max_message_bytes", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".jsonl")) files.push(p);
      }
    };
    walk(path.join(ROOT, "services/environments"));
    walk(path.join(ROOT, "testing/data"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        expect(jsonTooDeep(line, DEFAULT_LIMITS.max_json_depth), file).toBe(false);
        expect(Buffer.byteLength(line), file).toBeLessThan(DEFAULT_LIMITS.max_message_bytes);
      }
    }
  });

  it("the depth scan reads strings and escapes", () => {
    expect(jsonTooDeep(deep(3), 3)).toBe(false);
    expect(jsonTooDeep(deep(4), 3)).toBe(true);
    expect(jsonTooDeep(`["[[[[[[", "\\"[[[["]`, 2)).toBe(false);
  });
});
