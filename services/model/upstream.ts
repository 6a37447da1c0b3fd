// The HTTP side of a model instance: the official `openai` SDK over a bounded
// keep-alive connection pool (undici), with our own retries, per-request
// timeouts and cancellation, so every failure becomes the right gRPC code.
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";
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
