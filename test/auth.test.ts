// Authentication and TLS (the config's `security:`): the bearer token on
// every RPC and HTTP route of both ports but health (and public /metrics),
// mesh peers sending it, TLS and mutual TLS on both ports, `gym collect --url`
// with GYM_TOKEN, and the token kept out of every log line and message.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { ResourcesService } from "../gen/gymmesh/v1/resources_pb.js";
import { loadConfig } from "../services/app/config.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";
import { createGymClient, type GymClient, type GymClientOptions } from "../services/client/index.js";
import { ConfigError } from "../services/mesh/errors.js";
import { createGrpcJsTransport } from "../services/mesh/grpc-js-transport.js";
import { log, setQuiet } from "../services/mesh/log.js";
import { hosted, serve } from "../services/mesh/serve.js";
import { BUF, EXAMPLE_DATA, ROOT, readJsonl, run } from "../testing/helpers.js";

const TOKEN = `tok-${crypto.randomBytes(16).toString("hex")}`;
const WRONG = `bad-${crypto.randomBytes(16).toString("hex")}`;
const ENV = { GYM_TEST_TOKEN: TOKEN };
const AGENT = "example_single_tool_call_simple_agent";
const RESOURCES = "example_single_tool_call";
const GYM = path.join(ROOT, "bin/gym.js");
const DEFAULT_YAML = fs.readFileSync(path.join(ROOT, "config/default.yaml"), "utf8");
const rows = readJsonl(EXAMPLE_DATA);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-auth-"));
const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

// Every log line this process writes, to look for the token in.
const logged: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);
beforeAll(() => {
  setQuiet(false);
  vi.spyOn(process.stderr, "write").mockImplementation(((chunk: string | Uint8Array) => {
    const text = String(chunk);
    if (text.startsWith('{"time"')) logged.push(text);
    else realWrite(chunk);
    return true;
  }) as typeof process.stderr.write);
});
const clients: GymClient[] = [];
afterAll(() => {
  vi.restoreAllMocks();
  setQuiet(true);
  for (const c of clients) c.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A config file: the default mesh plus these YAML sections. */
function configFile(extra: string): string {
  const file = path.join(dir, `mesh-${n++}.yaml`);
  fs.writeFileSync(file, `${DEFAULT_YAML}\n${extra}`);
  return file;
}

const addressesYaml = (addresses: Record<string, string>) =>
  `addresses:\n${Object.entries(addresses)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join("\n")}\n`;

function gym(url: string, options: GymClientOptions = {}): GymClient {
  const c = createGymClient(url, { retry: { attempts: 1 }, ...options });
  clients.push(c);
  return c;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (err) {
    const e = ConnectError.from(err);
    // The refusal never echoes what was sent.
    expect(e.message).not.toContain(WRONG);
    expect(e.message).not.toContain(TOKEN);
    return e.code;
  }
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined };
}

const responsesBody = { model: "mock", input: "hello" };

describe("config: security", () => {
  const load = (yaml: string, env: NodeJS.ProcessEnv = ENV) => () => loadConfig(configFile(yaml), env);

  it("reads the token from an environment variable or a file (trimmed), and the TLS files", () => {
    const fromEnv = loadConfig(configFile("security:\n  token_env: GYM_TEST_TOKEN\n"), ENV);
    expect(fromEnv.security).toEqual({ token: TOKEN, metricsPublic: true, tls: undefined });
    fs.writeFileSync(path.join(dir, "token"), `${TOKEN}\n`);
    const fromFile = loadConfig(configFile("security:\n  token_file: token\n  metrics_public: false\n"), {});
    expect(fromFile.security).toEqual({ token: TOKEN, metricsPublic: false, tls: undefined });
    expect(loadConfig(configFile(""), {}).security).toBeUndefined();
  });

  it("fails at start naming the field, and never shows the token", () => {
    const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
      ["security:\n  token_env: GYM_TEST_TOKEN\n", {}, /security\.token_env: GYM_TEST_TOKEN is not set \(environment or env\.yaml\)/],
      ["security:\n  token_file: nowhere/token\n", {}, /security\.token_file: cannot read nowhere\/token: ENOENT/],
      ["security:\n  token_env: GYM_TEST_TOKEN\n", { GYM_TEST_TOKEN: "short" }, /security\.token_env: the token in GYM_TEST_TOKEN is too short \(at least 16/],
      ["security:\n  token_env: GYM_TEST_TOKEN\n", { GYM_TEST_TOKEN: `${TOKEN} x` }, /must be printable ASCII with no spaces/],
      ["security:\n  token_env: GYM_TEST_TOKEN\n  token_file: token\n", ENV, /security\.token_file: give token_env or token_file, not both/],
      [`security:\n  token_env: ${TOKEN}\n`, ENV, /security\.token_env: must be the name of an environment variable/],
      ["security:\n  token: x\n", ENV, /security: Unrecognized key: "token"/],
      ["security:\n  tls:\n    cert_file: a.pem\n", ENV, /security\.tls\.key_file: /],
      ["security:\n  tls:\n    cert_file: nowhere.pem\n    key_file: nowhere.key\n", ENV, /security\.tls\.cert_file: cannot read nowhere\.pem: ENOENT/],
      ["addresses:\n  policy_model: ftp://x\n", ENV, /addresses\.policy_model: must be an http\(s\):\/\/ or grpc:\/\/ URL \(grpcs:\/\/ with TLS\)/],
    ];
    for (const [yaml, env, message] of cases) {
      let err: unknown;
      try {
        load(yaml, env)();
      } catch (e) {
        err = e;
      }
      expect(err, yaml).toBeInstanceOf(ConfigError);
      expect((err as Error).message, yaml).toMatch(message);
      expect((err as Error).message).not.toContain(TOKEN.slice(4));
    }
  });

  it.skipIf(!hasOpenssl)("refuses a key that does not go with the certificate", () => {
    const pem = certificates();
    const yaml = `security:\n  tls:\n    cert_file: ${pem.files.serverCert}\n    key_file: ${pem.files.clientKey}\n`;
    expect(load(yaml)).toThrow(/security\.tls\.key_file: .*client\.key with .*server\.pem: .*(mismatch|key)/i);
  });
});

describe("a mesh with a token (clear text)", () => {
  let mesh: RunningMesh;
  const url = (name: string) => mesh.instances.find((i) => i.name === name)!.server.url;
  const grpcUrl = (name: string) => mesh.instances.find((i) => i.name === name)!.server.grpcUrl!;
  beforeAll(async () => {
    mesh = await startMesh(loadConfig(configFile("security:\n  token_env: GYM_TEST_TOKEN\n"), ENV));
  });
  afterAll(() => mesh?.close());

  /** ResourcesService over every protocol of both ports, with these headers. */
  function transports(headers: Record<string, string>): [string, Transport][] {
    const setHeaders: Interceptor = (next) => (req) => {
      for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
      return next(req);
    };
    const interceptors = [setHeaders];
    const main = url(RESOURCES);
    return [
      ["Connect (HTTP/1.1)", createConnectTransport({ baseUrl: main, httpVersion: "1.1", interceptors })],
      ["gRPC (main port)", createGrpcTransport({ baseUrl: main, interceptors })],
      ["gRPC-Web", createGrpcWebTransport({ baseUrl: main, httpVersion: "1.1", interceptors })],
      ["grpc-js port", createGrpcJsTransport(grpcUrl(RESOURCES).replace("grpc://", ""), { authorization: headers.authorization })],
    ];
  }

  it("prints clear-text URLs", () => {
    expect(url(AGENT)).toMatch(/^http:\/\//);
    expect(grpcUrl(AGENT)).toMatch(/^grpc:\/\//);
  });

  it("accepts the token on every protocol of both ports", async () => {
    for (const [name, transport] of transports(bearer(TOKEN))) {
      const { tools } = await createClient(ResourcesService, transport).listTools({});
      expect(tools.map((t) => t.name), name).toEqual(["get_weather"]);
    }
    // A whole rollout: the agent calls the model and the resources (in-process here; over the network below).
    const result = await gym(grpcUrl(AGENT), { token: TOKEN }).run(rows[0]!);
    expect(result.reward).toBe(1);
  });

  it("refuses a call without the token, or with a wrong one: UNAUTHENTICATED", async () => {
    for (const headers of [{}, bearer(WRONG), { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }]) {
      for (const [name, transport] of transports(headers)) {
        expect(await codeOf(createClient(ResourcesService, transport).listTools({})), `${name} ${JSON.stringify(headers).slice(0, 30)}`).toBe(
          Code.Unauthenticated,
        );
      }
    }
    expect(await codeOf(gym(grpcUrl(AGENT)).run(rows[0]!))).toBe(Code.Unauthenticated);
    expect(await codeOf(gym(url(AGENT), { token: WRONG }).run(rows[0]!))).toBe(Code.Unauthenticated);
    // Streaming calls too.
    const collect = gym(grpcUrl("rollout")).collect([rows[0]!]);
    expect(await codeOf(collect.next())).toBe(Code.Unauthenticated);
  });

  it("answers 401 with an OpenAI-style error on the HTTP routes (OpenAI face, NeMo Gym routes)", async () => {
    const routes: [string, unknown][] = [
      [`${url("policy_model")}/v1/responses`, responsesBody],
      [`${url("policy_model")}/v1/chat/completions`, { model: "mock", messages: [{ role: "user", content: "hi" }] }],
      [`${url(RESOURCES)}/seed_session`, {}],
      [`${url(RESOURCES)}/get_weather`, { city: "Paris" }],
      [`${url(AGENT)}/run`, rows[0]],
    ];
    for (const [route, body] of routes) {
      for (const headers of [{}, bearer(WRONG)]) {
        const res = await post(route, body, headers);
        expect(res.status, route).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(res.body).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "invalid_api_key" } });
      }
    }
    const models = await fetch(`${url("policy_model")}/v1/models`);
    expect(models.status).toBe(401);
    // With the token: the OpenAI face and NeMo Gym's routes answer.
    const answer = await post(`${url("policy_model")}/v1/responses`, responsesBody, bearer(TOKEN));
    expect(answer.status).toBe(200);
    expect(answer.body?.object).toBe("response");
    expect((await post(`${url(RESOURCES)}/seed_session`, {}, bearer(TOKEN))).status).toBe(200);
    const ran = await post(`${url(AGENT)}/run`, rows[0], bearer(TOKEN));
    expect(ran.status).toBe(200);
    expect(ran.body?.reward).toBe(1);
  });

  it("leaves health open on both ports (probes carry no token)", async () => {
    for (const [name, transport] of transports({})) {
      const { status } = await createClient(Health, transport).check({});
      expect(status, name).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
    await gym(grpcUrl(AGENT)).check();
    await gym(url(AGENT)).check();
  });

  it("serves GET /metrics without the token by default", async () => {
    const res = await fetch(`${url(AGENT)}/metrics`);
    expect(res.status).toBe(200);
    // Refused calls are counted.
    expect(await res.text()).toMatch(/gym_rpc_requests_total\{[^}]*code="unauthenticated"[^}]*\} [1-9]/);
  });

  it("keeps reflection behind the token: the README's buf curl lines", async () => {
    const agent = url(AGENT);
    const refused = await run(BUF, ["curl", "--http2-prior-knowledge", "--list-methods", agent]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not authenticated|unauthenticated/i);
    // As the README writes them, with the token in $GYM_TOKEN.
    const sh = (line: string) => run("sh", ["-c", line], { GYM_TOKEN: TOKEN });
    const list = await sh(`"${BUF}" curl --http2-prior-knowledge -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' --list-methods ${agent}`);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("gymmesh.v1.AgentService/Run");
    const body = JSON.stringify({ rowJson: JSON.stringify(rows[0]), wantOutputLine: true }).replace(/'/g, "'\\''");
    const call = await sh(
      `"${BUF}" curl --http2-prior-knowledge -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' -d '${body}' ${agent}/gymmesh.v1.AgentService/Run`,
    );
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout).rollout.verdict.reward).toBe(1);
    // The grpc-js port, by its http:// name.
    const viaGrpcJs = await sh(
      `"${BUF}" curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' -d '${body}' ${grpcUrl(AGENT).replace("grpc:", "http:")}/gymmesh.v1.AgentService/Run`,
    );
    expect(viaGrpcJs.code, viaGrpcJs.stderr).toBe(0);
    // Health needs no token, but buf curl finds its schema by reflection, which does.
    const health = await sh(`"${BUF}" curl --http2-prior-knowledge -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' -d '{}' ${agent}/grpc.health.v1.Health/Check`);
    expect(health.code, health.stderr).toBe(0);
    expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });
  }, 60_000);
});

describe("metrics_public: false", () => {
  it("asks for the token on GET /metrics too", async () => {
    const server = await serve({ name: "m", services: [], security: { token: TOKEN, metricsPublic: false } });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      const res = await fetch(`${server.url}/metrics`, { headers: bearer(TOKEN) });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("gym_rpc_requests_total");
    } finally {
      await server.close();
    }
  });
});

describe("peers over the network (grpc:// and http:// addresses)", () => {
  const started: RunningMesh[] = [];
  afterAll(async () => {
    for (const m of started.reverse()) await m.close();
  });
  const start = async (security: string, only: string[], addresses: Record<string, string> = {}) => {
    const extra = `${security}${Object.keys(addresses).length ? addressesYaml(addresses) : ""}`;
    const mesh = await startMesh(loadConfig(configFile(extra), ENV), { only });
    started.push(mesh);
    return mesh;
  };
  const server = (mesh: RunningMesh, name: string) => mesh.instances.find((i) => i.name === name)!.server;

  it("send the token: a rollout through a secured mesh whose instances run apart", async () => {
    const security = "security:\n  token_env: GYM_TEST_TOKEN\n";
    const backends = await start(security, ["mock_openai", "policy_model", RESOURCES]);
    const addresses = { policy_model: server(backends, "policy_model").grpcUrl!, [RESOURCES]: server(backends, RESOURCES).url };
    const front = await start(security, [AGENT, "rollout"], addresses);
    const results = [];
    for await (const r of gym(server(front, "rollout").grpcUrl!, { token: TOKEN }).collect(rows.slice(0, 3))) results.push(r);
    expect(results.map((r) => r.reward)).toEqual([1, 1, 1]);

    // A front without the token is refused by the backends.
    const open = await start("", [AGENT, "rollout"], addresses);
    const err = await gym(server(open, AGENT).grpcUrl!).run(rows[0]!).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

describe.skipIf(!hasOpenssl)("TLS", () => {
  const started: RunningMesh[] = [];
  afterAll(async () => {
    for (const m of started.reverse()) await m.close();
  });
  const server = (mesh: RunningMesh, name: string) => mesh.instances.find((i) => i.name === name)!.server;

  it("serves both ports over mutual TLS; peers at grpcs:// and https:// addresses reach each other", async () => {
    const pem = certificates();
    const security = [
      "security:",
      "  token_env: GYM_TEST_TOKEN",
      "  tls:",
      `    cert_file: ${pem.files.serverCert}`,
      `    key_file: ${pem.files.serverKey}`,
      `    ca_file: ${pem.files.ca}`,
      "",
    ].join("\n");
    const backends = await startMesh(loadConfig(configFile(security), ENV), { only: ["mock_openai", "policy_model", RESOURCES] });
    started.push(backends);
    const model = server(backends, "policy_model");
    expect(model.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(model.grpcUrl).toMatch(/^grpcs:\/\/127\.0\.0\.1:\d+$/);
    // The mock model (a stand-in backend, no secret behind it) stays open, in clear text.
    expect(server(backends, "mock_openai").url).toMatch(/^http:\/\//);
    const addresses = { policy_model: model.grpcUrl!, [RESOURCES]: server(backends, RESOURCES).url };
    const front = await startMesh(loadConfig(configFile(security + addressesYaml(addresses)), ENV), { only: [AGENT, "rollout"] });
    started.push(front);

    const tls = { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey };
    for (const url of [server(front, "rollout").grpcUrl!, server(front, "rollout").url]) {
      const results = [];
      for await (const r of gym(url, { token: TOKEN, tls }).collect(rows.slice(0, 2))) results.push(r);
      expect(results.map((r) => r.reward), url).toEqual([1, 1]);
    }
    for (const url of [server(front, AGENT).grpcUrl!, server(front, AGENT).url]) {
      // Health needs no token (the client certificate is still needed for the handshake).
      await gym(url, { tls }).check();
      // No token: UNAUTHENTICATED, over TLS as in clear text.
      expect(await codeOf(gym(url, { tls }).run(rows[0]!)), url).toBe(Code.Unauthenticated);
      // No client certificate: the handshake is refused.
      const anonymous = await codeOf(gym(url, { token: TOKEN, tls: { ca: pem.ca } }).run(rows[0]!, { timeoutMs: 1_000 }));
      expect(anonymous, url).not.toBe("ok");
      // A client that does not trust the mesh's CA refuses the server.
      const untrusting = await codeOf(gym(url, { token: TOKEN, tls: { cert: pem.clientCert, key: pem.clientKey } }).run(rows[0]!, { timeoutMs: 1_000 }));
      expect(untrusting, url).not.toBe("ok");
    }

    // HTTP/1.1 over TLS (the OpenAI face): ALPN picks http/1.1, the token is checked.
    const h1 = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(
          `${model.url}/v1/responses`,
          { method: "POST", headers: { "content-type": "application/json", ...headers }, ca: pem.ca, cert: pem.clientCert, key: pem.clientKey },
          (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify(responsesBody));
      });
    expect((await h1({})).status).toBe(401);
    const ok = await h1(bearer(TOKEN));
    expect(ok.status, ok.body).toBe(200);
    expect(JSON.parse(ok.body).object).toBe("response");

    // buf curl over mutual TLS, as the README writes it: the main port, then the grpc-js port (https:// for buf).
    const sh = (line: string) => run("sh", ["-c", line], { GYM_TOKEN: TOKEN });
    const tlsFlags = `--cacert ${pem.files.ca} --cert ${pem.files.clientCert} --key ${pem.files.clientKey}`;
    const list = await sh(`"${BUF}" curl ${tlsFlags} -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' --list-methods ${server(front, AGENT).url}`);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("gymmesh.v1.AgentService/Run");
    const grpcJsHttps = server(front, AGENT).grpcUrl!.replace("grpcs:", "https:");
    const body = JSON.stringify({ rowJson: JSON.stringify(rows[0]) }).replace(/'/g, "'\\''");
    const call = await sh(
      `"${BUF}" curl --protocol grpc ${tlsFlags} -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' -d '${body}' ${grpcJsHttps}/gymmesh.v1.AgentService/Run`,
    );
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout).rollout.verdict.reward).toBe(1);
    const health = await sh(`"${BUF}" curl --protocol grpc ${tlsFlags} -H "Authorization: Bearer $GYM_TOKEN" --reflect-header '*' -d '{}' ${grpcJsHttps}/grpc.health.v1.Health/Check`);
    expect(health.code, health.stderr).toBe(0);
    expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });
  }, 60_000);

  it("without a CA: TLS with no client certificate asked", async () => {
    const pem = certificates();
    const server = await serve({
      name: "tls_only",
      grpcPort: 0,
      services: [hosted(ResourcesService, { listTools: () => ({}) })],
      security: { token: TOKEN, tls: { cert: Buffer.from(pem.serverCert), key: Buffer.from(pem.serverKey) } },
    });
    try {
      for (const url of [server.url, server.grpcUrl!]) {
        await gym(url, { token: TOKEN, tls: { ca: pem.ca } }).resources.listTools({});
        await gym(url, { token: TOKEN, tls: { ca: pem.ca, serverName: "localhost" } }).resources.listTools({});
      }
    } finally {
      await server.close();
    }
  });
});

describe("gym serve and gym collect --url, in separate processes", () => {
  it.skipIf(!hasOpenssl)("collect sends GYM_TOKEN (and the TLS files); without it, one UNAUTHENTICATED line; no log shows the token", async () => {
    const pem = certificates();
    fs.writeFileSync(path.join(dir, "secret-token"), `${TOKEN}\n`);
    const security = [
      "security:",
      `  token_file: ${path.join(dir, "secret-token")}`,
      "  tls:",
      `    cert_file: ${pem.files.serverCert}`,
      `    key_file: ${pem.files.serverKey}`,
      `    ca_file: ${pem.files.ca}`,
      "",
    ].join("\n");
    const backends = await startServe(configFile(security), ["mock_openai", "policy_model", RESOURCES]);
    const front = await startServe(
      configFile(security + addressesYaml({ policy_model: backends.urls.get("policy_model")![1]!, [RESOURCES]: backends.urls.get(RESOURCES)![0]! })),
      [AGENT, "rollout"],
    );
    try {
      const [rolloutHttps, rolloutGrpcs] = front.urls.get("rollout")!;
      expect(rolloutHttps).toMatch(/^https:/);
      expect(rolloutGrpcs).toMatch(/^grpcs:/);
      const tlsArgs = ["--ca", pem.files.ca, "--cert", pem.files.clientCert, "--key", pem.files.clientKey];
      const collect = (url: string, out: string, env: NodeJS.ProcessEnv) =>
        run(process.execPath, [GYM, "collect", "--url", url, ...tlsArgs, "-a", AGENT, "-i", EXAMPLE_DATA, "-o", path.join(dir, out), "--limit", "2"], env);

      const ok = await collect(rolloutGrpcs!, "ok.jsonl", { GYM_TOKEN: TOKEN });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^2 rollouts, mean reward 1\.0000, 0 failed/m);
      const viaHttps = await collect(rolloutHttps!, "ok-https.jsonl", { GYM_TOKEN: TOKEN });
      expect(viaHttps.code, viaHttps.stderr).toBe(0);

      for (const env of [{ GYM_TOKEN: "" }, { GYM_TOKEN: WRONG }]) {
        const refused = await collect(rolloutGrpcs!, `refused-${env.GYM_TOKEN.length}.jsonl`, env);
        expect(refused.code).toBe(2);
        const errors = refused.stderr.split("\n").filter((l) => l.startsWith("gym:") || l.startsWith("    at "));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(/^gym: .*unauthenticated\W/);
        expect(refused.stderr).not.toContain(WRONG);
      }
      const help = await run(process.execPath, [GYM, "collect", "--help"]);
      expect(help.stdout).toContain("GYM_TOKEN");
    } finally {
      await Promise.all([front, backends].map((s) => s.stop()));
    }
    // The servers logged (requests, rollouts, refused handshakes...), never the token.
    for (const { stderr } of [backends, front]) {
      expect(stderr()).toContain('"event":');
      expect(stderr()).not.toContain(TOKEN);
    }
  }, 120_000);
});

describe("the token in logs", () => {
  it("is redacted from any log line, even one that carries it by mistake", () => {
    log.warn("oops", { detail: `header was Bearer ${TOKEN}` });
    const line = logged.at(-1)!;
    expect(line).toContain("Bearer [redacted]");
    expect(line).not.toContain(TOKEN);
  });

  it("never appeared in a log line of this process's servers", () => {
    expect(logged.length).toBeGreaterThan(1);
    for (const line of logged) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(WRONG);
    }
  });
});

/** `gym serve --only ...` with GYM_LOG=info; its instance URLs (main, grpc-js) once ready, and its stderr. */
async function startServe(config: string, only: string[]) {
  const child: ChildProcess = spawn(process.execPath, [GYM, "serve", "-c", config, "--only", only.join(",")], {
    cwd: ROOT,
    env: { ...process.env, GYM_LOG: "info", GYM_TOKEN: "" },
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const urls = new Map<string, string[]>();
  for await (const line of readline.createInterface({ input: child.stdout! })) {
    if (line === "ready") break;
    const [name, , ...rest] = line.split(/\s{2,}/);
    urls.set(name!, rest);
  }
  if (urls.size === 0) throw new Error(`gym serve did not start: ${stderr}`);
  return {
    urls,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

let pems: ReturnType<typeof makeCertificates> | undefined;
function certificates() {
  return (pems ??= makeCertificates(fs.mkdtempSync(path.join(dir, "pki-"))));
}

/** A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, signed by it (openssl). */
function makeCertificates(at: string) {
  const file = (f: string) => path.join(at, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: at, stdio: "pipe", timeout: 20_000 });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=gym test CA");
  for (const name of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name === "server" ? "localhost" : "gym client"}`);
    fs.writeFileSync(file(`${name}.ext`), name === "server" ? "subjectAltName=DNS:localhost,IP:127.0.0.1\n" : "extendedKeyUsage=clientAuth\n");
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`);
  }
  const files = { ca: file("ca.pem"), serverKey: file("server.key"), serverCert: file("server.pem"), clientKey: file("client.key"), clientCert: file("client.pem") };
  const read = (f: string) => fs.readFileSync(f, "utf8");
  return { files, ca: read(files.ca), serverKey: read(files.serverKey), serverCert: read(files.serverCert), clientKey: read(files.clientKey), clientCert: read(files.clientCert) };
}
