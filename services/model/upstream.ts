// The HTTP side of a model instance: the official `openai` SDK over a bounded
// keep-alive connection pool (undici), with our own retries, per-request
// timeouts and cancellation, so every failure becomes the right gRPC code.
// A whole (not streamed) answer skips the SDK's per-request machinery
// (postText): the SDK's headers and error classes, posted straight on the pool.
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";
import * as zlib from "node:zlib";
import { Agent, fetch as undiciFetch } from "undici";
import { log } from "../mesh/log.js";
import type { GenerateOptions } from "../openai/backend.js";
import { backoffMs, type RetryPolicy } from "../mesh/backoff.js";
import { isRetryable, retryAfterMs } from "./retry-policy.js";
import { Slots } from "./slots.js";
import { redact, upstreamError } from "./upstream-errors.js";

export interface UpstreamOptions {
  /** Instance name, for logs and error messages. */
  name: string;
  /** An OpenAI-compatible base URL, `http://host:port/v1`. */
  baseUrl: string;
  apiKey: string;
  /** Per upstream request (each attempt), in milliseconds; the caller's deadline can make it shorter. */
  timeoutMs: number;
  /** Keep-alive connections to the backend at most; requests beyond wait for a free one. */
  poolConnections: number;
  retry: RetryPolicy;
  /** Extra headers on every upstream request. */
  headers?: Record<string, string>;
}

/** One try of one request: its abort signal (caller's cancel + timeout) and its timer. */
export class Attempt {
  readonly signal: AbortSignal;
  timedOut = false;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort = () => this.controller.abort();

  constructor(
    readonly budgetMs: number,
    private readonly caller: AbortSignal | undefined,
    private readonly releaseSlot: () => void = () => {},
  ) {
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, budgetMs);
    caller?.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  /** Stops the timer and frees the connection slot; call when the request (and its body or stream) is finished. */
  release(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener("abort", this.onCallerAbort);
    this.releaseSlot();
  }
}

/** Where the direct path posts, and the headers the SDK would send (computed once, by the SDK). */
interface DirectRoute {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export interface UpstreamStats {
  /** Requests sent upstream, retries included. */
  requests: number;
  retries: number;
}

export class Upstream {
  readonly client: OpenAI;
  readonly stats: UpstreamStats = { requests: 0, retries: 0 };
  /** One slot per pooled connection: requests beyond them wait here, cheaply, in order. */
  readonly slots: Slots;
  private readonly agent: Agent;
  private readonly routes = new Map<string, Promise<DirectRoute>>();
  /** Paths the backend redirects: left to the SDK (fetch follows redirects). */
  private readonly redirected = new Set<string>();

  constructor(readonly options: UpstreamOptions) {
    // Timeouts are ours (per attempt, body included); undici's own would cut
    // long generations that send no byte for minutes.
    this.slots = new Slots(options.poolConnections);
    this.agent = new Agent({ connections: options.poolConnections, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
    const dispatcher = this.agent;
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: options.apiKey,
      maxRetries: 0,
      timeout: options.timeoutMs,
      defaultHeaders: options.headers,
      fetch: ((url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher } as never)) as never,
    });
  }

  /**
   * Runs `send` with retries. `send` gets the attempt's signal and must
   * finish the whole exchange (body read) before it resolves, unless
   * `hold` is set: then the attempt is returned still running (for a stream)
   * and the caller releases it when the stream ends.
   */
  async send<T>(options: GenerateOptions, send: (signal: AbortSignal) => Promise<T>, hold = false): Promise<{ value: T; attempt: Attempt }> {
    const { retry, timeoutMs, name } = this.options;
    const deadline = options.timeoutMs !== undefined ? performance.now() + options.timeoutMs : Infinity;
    for (let n = 1; ; n++) {
      if (options.signal?.aborted) throw this.failure(new OpenAI.APIUserAbortError(), undefined, n - 1);
      let releaseSlot: () => void;
      try {
        releaseSlot = await this.slots.acquire(options.signal);
      } catch {
        throw this.failure(new OpenAI.APIUserAbortError(), undefined, n - 1);
      }
      // The timeout counts from here: waiting for a free connection is the mesh's queue, not the backend's slowness.
      const budget = Math.min(timeoutMs, Math.floor(deadline - performance.now()));
      if (budget <= 0) {
        releaseSlot();
        throw new ConnectError(`${name}: no time left for the upstream request`, Code.DeadlineExceeded);
      }
      const attempt = new Attempt(budget, options.signal, releaseSlot);
      this.stats.requests++;
      try {
        const value = await send(attempt.signal);
        if (!hold) attempt.release();
        return { value, attempt };
      } catch (err) {
        attempt.release();
        if (options.signal?.aborted) throw this.failure(new OpenAI.APIUserAbortError(), attempt, n);
        if (attempt.timedOut || !isRetryable(err) || n >= retry.maxAttempts) {
          throw this.failure(err, attempt, n);
        }
        const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
        const asked = retryAfterMs(headers);
        const wait = asked ?? backoffMs(retry, n);
        // A wait longer than the time left cannot end in success: fail now, with the real reason.
        if (performance.now() + wait >= deadline || wait > timeoutMs) throw this.failure(err, attempt, n);
        this.stats.retries++;
        log.warn("model_retry", {
          instance: name,
          request_id: options.requestId,
          attempt: n,
          status: err instanceof OpenAI.APIError ? err.status : undefined,
          wait_ms: Math.round(wait),
          retry_after: asked !== undefined,
        });
        await sleep(wait, options.signal);
      }
    }
  }

  /**
   * POSTs a JSON body to `path` (under the base URL) and returns the answer's
   * text: what the SDK's `post(path, { body }).asResponse()` and `text()` do
   * (same URL, same headers, built by the SDK once; a non-2xx status throws
   * the SDK's own APIError subclass with status, body and headers; a
   * connection failure its APIConnectionError or APIConnectionTimeoutError; an
   * abort its APIUserAbortError), but straight on the undici pool: no fetch
   * Request/Response or web streams, no second abort controller and timer,
   * no log records built per request. A path the backend redirects, or the
   * SDK's own logging asked for (`OPENAI_LOG=info|debug`), go through the SDK.
   */
  async postText(path: string, body: unknown, signal: AbortSignal): Promise<string> {
    const logLevel = (this.client as unknown as { logLevel?: string }).logLevel;
    if (logLevel === "info" || logLevel === "debug" || this.redirected.has(path)) return this.postViaSdk(path, body, signal);
    if (signal.aborted) throw new OpenAI.APIUserAbortError();
    const route = await this.route(path);
    let res: Awaited<ReturnType<Agent["request"]>>;
    try {
      res = await this.agent.request({ origin: route.origin, path: route.path, method: "POST", headers: route.headers, body: JSON.stringify(body), signal });
    } catch (err) {
      if (signal.aborted) throw new OpenAI.APIUserAbortError();
      // As fetch reports it (and the SDK wraps it): a TypeError "fetch failed" caused by the socket's error.
      const failed = new TypeError("fetch failed", { cause: err });
      if (/timed? ?out/i.test(String(failed) + String(err))) throw new OpenAI.APIConnectionTimeoutError();
      throw new OpenAI.APIConnectionError({ cause: failed });
    }
    const { statusCode, headers } = res;
    if (statusCode >= 300 && statusCode < 400 && headers.location !== undefined) {
      // fetch follows redirects: this path goes through the SDK from now on (it sends this request again; it was not served).
      res.body.resume();
      this.redirected.add(path);
      return this.postViaSdk(path, body, signal);
    }
    let text: string;
    try {
      text = await readBody(res.body, headers["content-encoding"]);
    } catch (err) {
      if (statusCode < 200 || statusCode >= 300) text = (err as Error).message;
      else throw new OpenAI.APIConnectionError({ message: `reading the answer failed: ${(err as Error).message}`, cause: err as Error });
    }
    if (statusCode >= 200 && statusCode < 300) return text;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    throw (this.client as unknown as { makeStatusError(s: number, e: unknown, m: string | undefined, h: Headers): Error }).makeStatusError(
      statusCode,
      json,
      json === undefined ? text : undefined,
      headersOf(headers),
    );
  }

  /** The SDK's request, for what the direct path leaves to it. */
  private async postViaSdk(path: string, body: unknown, signal: AbortSignal): Promise<string> {
    const raw = await this.client.post(path, { body, signal, stream: false } as never).asResponse();
    try {
      return await raw.text();
    } catch (err) {
      throw new OpenAI.APIConnectionError({ message: `reading the answer failed: ${(err as Error).message}`, cause: err as Error });
    }
  }

  private route(path: string): Promise<DirectRoute> {
    let route = this.routes.get(path);
    if (!route) {
      route = (async () => {
        type Built = { req: { headers: Headers }; url: string };
        const sdk = this.client as unknown as { buildRequest(o: object, r: { retryCount: number }): Promise<Built> };
        const { req, url } = await sdk.buildRequest({ method: "post", path, body: {} }, { retryCount: 0 });
        const parsed = new URL(url);
        return { origin: parsed.origin, path: parsed.pathname + parsed.search, headers: Object.fromEntries(req.headers) };
      })();
      route.catch(() => this.routes.delete(path));
      this.routes.set(path, route);
    }
    return route;
  }

  /** The ConnectError for a failed attempt (or a failure while reading its stream). */
  failure(err: unknown, attempt: Attempt | undefined, attempts: number): ConnectError {
    const { name } = this.options;
    if (attempt?.timedOut && !(err instanceof ConnectError)) {
      return new ConnectError(`${name}: upstream did not answer within ${attempt.budgetMs} ms`, Code.DeadlineExceeded);
    }
    return upstreamError(err, { backend: name, attempts, secrets: this.secrets() });
  }

  /** Removes secrets from any text that may leave the process. */
  redact(text: string): string {
    return redact(text, this.secrets());
  }

  private secrets(): string[] {
    return [this.options.apiKey, ...Object.values(this.options.headers ?? {})];
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** A response body as text, decoded as fetch would decode its content-encoding. */
async function readBody(body: AsyncIterable<Buffer>, encoding: string | string[] | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  let bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const codings = (Array.isArray(encoding) ? encoding.join(",") : encoding ?? "").toLowerCase().split(",").map((c) => c.trim()).filter((c) => c && c !== "identity");
  for (const coding of codings.reverse()) {
    if (coding === "gzip" || coding === "x-gzip") bytes = zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    else if (coding === "deflate") bytes = bytes[0] !== undefined && (bytes[0] & 0x0f) === 0x08 ? zlib.inflateSync(bytes) : zlib.inflateRawSync(bytes);
    else if (coding === "br") bytes = zlib.brotliDecompressSync(bytes);
    else break;
  }
  return bytes.toString("utf8");
}

function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
