// A rollout's deadline (the agent's, and the rollout service's across tries): set once when the rollout starts (from the time its
// caller gave it), then each call the rollout makes (seeding, model, tools,
// verify, reset/step) gets the time left, not the whole budget again. Once
// the deadline has passed, the next call fails with DEADLINE_EXCEEDED without
// being made.
import { Code, ConnectError } from "@connectrpc/connect";
import { REQUEST_ID_HEADER } from "./request-id.js";

/** The options of one call a rollout makes: its cancellation, the time left and its correlation id. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: Record<string, string>;
}


export interface DeadlineInit {
  /**
   * The time from now to the deadline, in milliseconds (what a handler's
   * `ctx.timeoutMs()` says): undefined for none; 0 or less: already passed.
   */
  timeoutMs?: number;
  /** The rollout's cancellation, passed on to every call. */
  signal?: AbortSignal;
  /** Who is calling (the agent instance), for the error message. */
  name?: string;
  /** Sent as `x-request-id` with every call (the rollout id). */
  requestId?: string;
  /** The clock, in milliseconds (tests pass their own); monotonic by default. */
  now?: () => number;
}

export class Deadline {
  /** On `now`'s clock; undefined: no deadline. */
  readonly at: number | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly name: string | undefined;
  private readonly headers: Record<string, string> | undefined;
  private readonly now: () => number;

  constructor(init: DeadlineInit = {}) {
    this.now = init.now ?? (() => performance.now());
    this.signal = init.signal;
    this.name = init.name;
    this.headers = init.requestId ? { [REQUEST_ID_HEADER]: init.requestId } : undefined;
    const { timeoutMs } = init;
    this.at = timeoutMs === undefined || Number.isNaN(timeoutMs) || timeoutMs === Infinity ? undefined : this.now() + timeoutMs;
  }

  /** Milliseconds left (0 or less once passed); undefined when there is no deadline. */
  remainingMs(): number | undefined {
    return this.at === undefined ? undefined : this.at - this.now();
  }

  /**
   * The options of the call about to be made (`what`, e.g. "verify"): the
   * signal and the time left in whole milliseconds, at least 1. Once the
   * deadline has passed, throws DEADLINE_EXCEEDED instead: the call is not made.
   */
  call(what: string): CallOptions {
    const left = this.remainingMs();
    if (left === undefined) return { signal: this.signal, headers: this.headers };
    if (left <= 0) {
      throw new ConnectError(`${this.name ? `${this.name}: ` : ""}the rollout's deadline passed before ${what}`, Code.DeadlineExceeded);
    }
    return { signal: this.signal, timeoutMs: Math.max(1, Math.floor(left)), headers: this.headers };
  }
}
