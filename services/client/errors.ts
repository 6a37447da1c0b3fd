// Errors of the client's helpers: the server's status, said with which call to
// which URL failed and, for the usual mistakes, what to do about it.
import { Code, ConnectError } from "@connectrpc/connect";

/** gRPC code names as gym collect's failure lines write them: "invalid_argument", "not_found"... */
export function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/**
 * A call of `run()`, `collect()` or `check()` that failed: a ConnectError
 * (`code`, `rawMessage`, `metadata`, `cause`: the original error) whose
 * message names the call and the URL.
 */
export class GymError extends ConnectError {
  constructor(
    message: string,
    code: Code,
    readonly url: string,
    readonly procedure: string,
    cause?: unknown,
  ) {
    super(message, code, cause instanceof ConnectError ? cause.metadata : undefined, undefined, cause);
    // The name stays "ConnectError": connect recognizes its errors by it (instanceof ConnectError, ConnectError.from).
  }

  /** ConnectError's own check would take any ConnectError for a GymError: look at the prototype chain instead. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && GymError.prototype.isPrototypeOf(value);
  }
}

const WHO_SERVES: Record<string, string> = {
  "gymmesh.v1.AgentService": "an agent instance",
  "gymmesh.v1.RolloutService": "the rollout instance",
};

/** A failed call as a GymError that says what to do about it. */
export function gymError(err: unknown, url: string, procedure: string, tries = 1): ConnectError {
  if (err instanceof GymError) return err;
  const cause = ConnectError.from(err);
  const service = procedure.split("/")[1] ?? procedure;
  let detail = cause.rawMessage;
  if (cause.code === Code.Unimplemented) {
    detail = `${url} does not serve ${service} (${detail}): pass the URL of ${WHO_SERVES[service] ?? "the right instance"} (gym serve prints one per instance)`;
  } else if (cause.code === Code.Unavailable) {
    detail = `cannot reach ${url}: ${detail}${tries > 1 ? ` (gave up after ${tries} tries)` : ""}`;
  }
  return new GymError(`${procedure} at ${url}: ${detail}`, cause.code, url, procedure, cause);
}

export function deadlineError(url: string, procedure: string, timeoutMs: number | undefined): GymError {
  return new GymError(`${procedure} at ${url}: the deadline (${timeoutMs} ms) passed`, Code.DeadlineExceeded, url, procedure);
}
