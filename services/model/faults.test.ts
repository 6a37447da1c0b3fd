import { ResponseStatus } from "../../gen/gymmesh/v1/responses_pb.js";
// Upstream faults, from a real server on loopback (the mock with its fault
// knobs): what is retried and how often, what each failure becomes as a gRPC
// code, deadlines and cancellation reaching the upstream request, and API
// keys kept out of errors and logs.
import { once } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setQuiet } from "../mesh/log.js";
import { paramsFromJson } from "../openai/responses-json.js";
import type { MockKnobs } from "../mock-model/faults.js";
import { startMock, startModel, type RunningMock, type RunningModel } from "../../testing/model-kit.js";

setQuiet(true);

const PARAMS = paramsFromJson({ input: "hello" });
let running: { mock: RunningMock; model: RunningModel }[] = [];

async function pair(knobs: Partial<MockKnobs>, fields: Record<string, unknown> = {}) {
  const mock = await startMock({ knobs });
  const model = await startModel(mock.baseUrl, { retry_base_s: 0.001, retry_max_s: 0.005, ...fields });
  running.push({ mock, model });
  return { mock, model, stats: mock.mock.stats };
}

afterEach(async () => {
  for (const { mock, model } of running) {
    await model.close();
    await mock.server.close();
  }
  running = [];
});

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

describe.each(["responses", "chat_completions"] as const)("retries (%s API)", (api) => {
  it("retries a 429 after the Retry-After the server asked for, then succeeds", async () => {
    // Every other request is refused, the first one first. The backoff alone would wait ~minutes:
    // finishing at all shows the Retry-After of 0 s was followed instead.
    const { model, stats } = await pair({ errorRate: 0.5, errorStatus: 429, retryAfterS: 0 }, { api, retry_base_s: 120, retry_max_s: 120 });
    const { response } = await model.client.createResponse({ params: PARAMS });
    expect(response?.status).toBe(ResponseStatus.COMPLETED);
    expect(stats).toMatchObject({ requests: 2, errors: 1, answered: 1 });
  });

  it("gives up on a 429 whose Retry-After is longer than the time left: RESOURCE_EXHAUSTED at once", async () => {
    const { model, stats } = await pair({ errorRate: 1, errorStatus: 429, retryAfterS: 3600 }, { api });
    const err = await failure(model.client.createResponse({ params: PARAMS }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toContain("upstream answered 429");
    expect(stats.requests).toBe(1);
  });

  it("retries 500s up to max_attempts, then fails with UNAVAILABLE", async () => {
    const { model, stats } = await pair({ errorRate: 1, errorStatus: 500 }, { api, max_attempts: 4 });
    const err = await failure(model.client.createResponse({ params: PARAMS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/^policy: upstream answered 500: .*\(after 4 attempts\)$/);
    expect(stats).toMatchObject({ requests: 4, errors: 4, answered: 0 });
  });

  it("retries reset connections, then fails with UNAVAILABLE", async () => {
    const { model, stats } = await pair({ resetRate: 1 }, { api, max_attempts: 3 });
    const err = await failure(model.client.createResponse({ params: PARAMS }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toContain("cannot reach upstream");
    expect(stats).toMatchObject({ requests: 3, resets: 3 });
  });

  it("gets through when only some connections are reset", async () => {
    const { model, stats } = await pair({ resetRate: 0.5 }, { api });
    // Every other connection is reset, the first one first: each call needs exactly one retry.
    for (let i = 0; i < 4; i++) {
      const { response } = await model.client.createResponse({ params: PARAMS });
      expect(response?.status).toBe(ResponseStatus.COMPLETED);
    }
    expect(stats).toMatchObject({ requests: 8, resets: 4, answered: 4 });
  });

  it("does not retry a bad request: INVALID_ARGUMENT after one attempt", async () => {
    const { model, stats } = await pair({ errorRate: 1, errorStatus: 400 }, { api });
    const err = await failure(model.client.createResponse({ params: PARAMS }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(stats.requests).toBe(1);
  });

  it("retries a stream that fails before it starts", async () => {
    const { model, stats } = await pair({ errorRate: 0.5, errorStatus: 503 }, { api });
    const events = [];
    for await (const e of model.client.streamResponse({ params: PARAMS })) events.push(e.event.case);
    expect(events.at(-1)).toBe("completed");
    expect(stats).toMatchObject({ requests: 2, errors: 1 });
  });
});

describe("deadlines and cancellation", () => {
  it("fails a stalled request with DEADLINE_EXCEEDED at timeout_s, aborts it upstream and does not retry", async () => {
    const { model, mock, stats } = await pair({ stallRate: 1 }, { timeout_s: 0.2 });
    const aborted = once(mock.mock, "aborted");
    const err = await failure(model.client.createResponse({ params: PARAMS }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).toBe("policy: upstream did not answer within 200 ms");
    await aborted;
    expect(stats).toMatchObject({ requests: 1, stalls: 1, aborted: 1 });
  });

  it("honours the caller's deadline when it is shorter, and aborts the upstream request", async () => {
    const { model, mock, stats } = await pair({ stallRate: 1 });
    const aborted = once(mock.mock, "aborted");
    const err = await failure(model.client.createResponse({ params: PARAMS }, { timeoutMs: 200 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    await aborted;
    expect(stats.aborted).toBe(1);
  });

  it("aborts the upstream request when the caller cancels, unary and streaming", async () => {
    const { model, mock, stats } = await pair({ stallRate: 1 }, { api: "chat_completions" });
    for (const call of [
      (signal: AbortSignal) => model.client.createResponse({ params: PARAMS }, { signal }),
      async (signal: AbortSignal) => {
        for await (const _ of model.client.streamResponse({ params: PARAMS }, { signal }));
      },
    ]) {
      const controller = new AbortController();
      const arrived = once(mock.mock, "request");
      const aborted = once(mock.mock, "aborted");
      const pending = failure(call(controller.signal));
      await arrived;
      controller.abort();
      expect((await pending).code).toBe(Code.Canceled);
      await aborted;
    }
    expect(stats).toMatchObject({ requests: 2, aborted: 2, answered: 0 });
  });

  it("answers after a stall shorter than the timeout", async () => {
    const { model, stats } = await pair({ stallRate: 1, stallMs: 50 }, { timeout_s: 10 });
    const { response } = await model.client.createResponse({ params: PARAMS });
    expect(response?.status).toBe(ResponseStatus.COMPLETED);
    expect(stats).toMatchObject({ stalls: 1, answered: 1 });
  });
});

describe("the connection pool", () => {
  it("never has more than pool_connections requests upstream; the others wait their turn", async () => {
    const { model, mock, stats } = await pair({ stallRate: 1 }, { pool_connections: 2 });
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const arrived: unknown[] = [];
    mock.mock.on("request", (e) => arrived.push(e));
    const calls = controllers.map((c) => failure(model.client.createResponse({ params: PARAMS }, { signal: c.signal })));
    // Each time a stalled request is given up, the next waiting one goes out.
    for (let i = 0; i < 5; i++) {
      while (arrived.length < Math.min(i + 2, 5)) await once(mock.mock, "request");
      const gone = once(mock.mock, "aborted");
      controllers[i]!.abort();
      await gone;
    }
    expect((await Promise.all(calls)).map((e) => e.code)).toEqual(Array(5).fill(Code.Canceled));
    expect(stats).toMatchObject({ requests: 5, aborted: 5, peakInFlight: 2 });
  });
});

describe("secrets", () => {
  const KEY = "sk-test-0123456789-SECRET";

  it("keeps the API key out of error messages and logs, even when the upstream quotes it", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    setQuiet(false);
    try {
      const { model, mock } = await pair({ errorRate: 1, errorStatus: 401 }, { api_key: KEY });
      const seen = once(mock.mock, "request");
      const err = await failure(model.client.createResponse({ params: PARAMS }, { headers: { "x-request-id": "rid-1" } }));
      const [request] = (await seen) as [{ headers: Record<string, string> }];
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`); // the key did reach the backend
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.rawMessage).toContain("Incorrect API key provided: [redacted]");
      expect(err.rawMessage).not.toContain(KEY);
      const logged = lines.join("");
      expect(logged).toContain("rid-1");
      expect(logged).not.toContain(KEY);
    } finally {
      setQuiet(true);
      spy.mockRestore();
    }
  });
});
