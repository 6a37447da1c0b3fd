// How the helpers retry: a call that fails UNAVAILABLE (the instance is not
// up, restarting, or the connection broke) is tried again, with exponential
// backoff, a bounded number of times, within the call's deadline.
import { Code, ConnectError } from "@connectrpc/connect";
import { sleep as abortableSleep } from "../mesh/backoff.js";

export interface RetryOptions {
  /** Tries in all, the first included; 1 never retries. Default 8. */
  attempts?: number;
  /** Backoff before the first retry, in ms (times `multiplier` each time, at most `maxBackoffMs`, +-20% jitter). Default 200. */
  initialBackoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
  /** Default 2. */
  multiplier?: number;
  /** Codes that are retried. Default [Code.Unavailable]. */
  codes?: Code[];
}

export type Retry = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): Retry {
  const retry: Retry = {
    attempts: options.attempts ?? 8,
    initialBackoffMs: options.initialBackoffMs ?? 200,
    maxBackoffMs: options.maxBackoffMs ?? 5000,
    multiplier: options.multiplier ?? 2,
    codes: options.codes ?? [Code.Unavailable],
  };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new RangeError("gym-mesh: retry.attempts must be a whole number of at least 1");
  return retry;
}

/** Milliseconds to wait after failed try number `attempt` (from 1). */
export function backoffMs(retry: Retry, attempt: number): number {
  const base = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * retry.multiplier ** Math.max(0, attempt - 1));
  return base * (0.8 + Math.random() * 0.4);
}

export function retriable(retry: Retry, err: unknown): boolean {
  return retry.codes.includes(ConnectError.from(err).code);
}

/** Resolves after `ms`; rejects as a cancelled call as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal).catch((err: unknown) => {
    throw signal?.aborted ? canceled(signal) : err;
  });
}

/** The error of a call cancelled by the caller's signal, as connect gives it. */
export function canceled(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason, Code.Canceled);
}

/** The time left before `deadline` (ms since epoch), or undefined when there is none. */
export function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : deadline - Date.now();
}
