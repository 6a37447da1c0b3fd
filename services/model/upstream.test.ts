// The direct upstream path (Upstream.postText) against the SDK's own request
// on the same server: the same URL, headers and body; the same error objects
// (class, status, body, message, headers); bodies decoded and redirects
// followed as fetch does.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { Upstream } from "./upstream.js";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let servers: http.Server[] = [];
let upstreams: Upstream[] = [];

afterEach(async () => {
  await Promise.all(upstreams.map((u) => u.close()));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
  upstreams = [];
});

async function server(answer: Answer): Promise<{ baseUrl: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { baseUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`, seen };
}

function upstream(baseUrl: string): Upstream {
  const up = new Upstream({
    name: "m",
    baseUrl,
    apiKey: "sk-test-key-0123456789",
    timeoutMs: 5_000,
    poolConnections: 4,
    retry: { maxAttempts: 1, baseMs: 1, maxMs: 1 },
    headers: { "x-extra": "yes" },
  });
  upstreams.push(up);
  return up;
}

const BODY = { model: "m", input: [{ role: "user", content: "héllo" }], temperature: 0.5 };

/** The SDK's own request and answer text, as the backends made them before the direct path. */
async function viaSdk(up: Upstream, path: string): Promise<string> {
  return (await up.client.post(path, { body: BODY, signal: new AbortController().signal, stream: false } as never).asResponse()).text();
}

async function caught(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error("expected a failure");
}

// Headers fetch itself adds (the SDK does not): the direct path need not send them.
const FETCH_OWN = ["accept-encoding", "accept-language", "sec-fetch-mode", "connection", "host"];
const withoutFetchOwn = (h: http.IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => !FETCH_OWN.includes(k)));

describe("Upstream.postText", () => {
  it.each(["/responses", "/chat/completions"])("sends what the SDK sends to %s and returns the body", async (path) => {
    const { baseUrl, seen } = await server((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":1}'));
    const up = upstream(baseUrl);
    expect(await viaSdk(up, path)).toBe('{"ok":1}');
    expect(await up.postText(path, BODY, new AbortController().signal)).toBe('{"ok":1}');
    expect(await up.postText(path, BODY, new AbortController().signal)).toBe('{"ok":1}');
    const [sdk, direct, again] = seen;
    expect(direct!.method).toBe(sdk!.method);
    expect(direct!.url).toBe(sdk!.url);
    expect(direct!.body).toBe(sdk!.body);
    expect(JSON.parse(direct!.body)).toEqual(BODY);
    expect(withoutFetchOwn(direct!.headers)).toEqual(withoutFetchOwn(sdk!.headers));
    expect(direct!.headers.authorization).toBe("Bearer sk-test-key-0123456789");
    expect(direct!.headers["x-extra"]).toBe("yes");
    expect(again!.headers).toEqual(direct!.headers);
  });

  it.each([
    ["a JSON error body", 400, { "content-type": "application/json" }, '{"error":{"message":"bad input","type":"invalid_request_error"}}'],
    ["a text error body", 503, { "content-type": "text/plain", "retry-after": "2" }, "overloaded"],
    ["a rate limit", 429, { "content-type": "application/json", "retry-after-ms": "10" }, '{"error":{"message":"slow down"}}'],
    ["an unknown status", 418, {}, ""],
  ])("throws the SDK's error for %s", async (_what, status, headers, text) => {
    const { baseUrl } = await server((_req, res) => res.writeHead(status, headers).end(text));
    const up = upstream(baseUrl);
    const sdk = await caught(viaSdk(up, "/responses"));
    const direct = await caught(up.postText("/responses", BODY, new AbortController().signal));
    expect(direct).toBeInstanceOf(OpenAI.APIError);
    expect(direct.constructor).toBe(sdk.constructor);
    expect(direct.status).toBe(sdk.status);
    expect(direct.message).toBe(sdk.message);
    expect(direct.error).toEqual(sdk.error);
    const relevant = (h: Headers) => Object.fromEntries([...h].filter(([k]) => k !== "date"));
    expect(relevant(direct.headers as Headers)).toEqual(relevant(sdk.headers as Headers));
  });

  it("fails a refused connection as the SDK does (APIConnectionError, caused by fetch's TypeError)", async () => {
    const { baseUrl } = await server(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    const up = upstream(baseUrl);
    const sdk = await caught(viaSdk(up, "/responses"));
    const direct = await caught(up.postText("/responses", BODY, new AbortController().signal));
    expect(direct.constructor).toBe(OpenAI.APIConnectionError);
    expect(direct.constructor).toBe(sdk.constructor);
    expect(direct.message).toBe(sdk.message);
    const cause = (e: Record<string, unknown>) => e.cause as { message: string; cause: { code: string } };
    expect(cause(direct).message).toBe(cause(sdk).message);
    expect(cause(direct).cause.code).toBe(cause(sdk).cause.code);
  });

  it("throws APIUserAbortError when the signal aborts, before or during the request", async () => {
    const { baseUrl } = await server(() => {}); // never answers
    const up = upstream(baseUrl);
    const aborted = new AbortController();
    aborted.abort();
    expect(await caught(up.postText("/responses", BODY, aborted.signal))).toBeInstanceOf(OpenAI.APIUserAbortError);
    const later = new AbortController();
    setTimeout(() => later.abort(), 50);
    expect(await caught(up.postText("/responses", BODY, later.signal))).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it("decodes a compressed body and follows a redirect, as fetch does", async () => {
    const json = JSON.stringify({ text: "ünïcode ".repeat(50) });
    const { baseUrl, seen } = await server((req, res) => {
      if (req.url === "/v1/responses") res.writeHead(307, { location: "/v1/moved" }).end();
      else if (req.url === "/v1/moved") res.writeHead(200, { "content-encoding": "gzip" }).end(zlib.gzipSync(json));
      else res.writeHead(200, { "content-encoding": "br" }).end(zlib.brotliCompressSync(json));
    });
    const up = upstream(baseUrl);
    expect(await up.postText("/chat/completions", BODY, new AbortController().signal)).toBe(json);
    expect(await up.postText("/responses", BODY, new AbortController().signal)).toBe(json);
    expect(await up.postText("/responses", BODY, new AbortController().signal)).toBe(json);
    // The first redirect costs the redirected request again (through the SDK); later ones go through the SDK at once.
    expect(seen.map((s) => s.url)).toEqual(["/v1/chat/completions", "/v1/responses", "/v1/responses", "/v1/moved", "/v1/responses", "/v1/moved"]);
    expect(JSON.parse(seen[3]!.body)).toEqual(BODY);
  });
});
