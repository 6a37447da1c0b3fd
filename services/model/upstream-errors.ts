// Maps failures of the upstream OpenAI-compatible backend to gRPC codes, with
// messages that say which instance and what happened, and never a secret.
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";

export interface FailureContext {
  /** Instance name. */
  backend: string;
  /** Tries made, for the message ("after 3 attempts"). */
  attempts?: number;
  /** Strings that must never appear in a message (API keys). */
  secrets?: readonly string[];
}

export function upstreamError(err: unknown, ctx: FailureContext): ConnectError {
  const tries = ctx.attempts && ctx.attempts > 1 ? ` (after ${ctx.attempts} attempts)` : "";
  const make = (text: string, code: Code) => new ConnectError(redact(`${ctx.backend}: ${text}${tries}`, ctx.secrets), code);
  if (err instanceof ConnectError) return new ConnectError(redact(err.rawMessage, ctx.secrets), err.code);
  if (err instanceof OpenAI.APIUserAbortError) return make("request cancelled", Code.Canceled);
  if (err instanceof OpenAI.APIConnectionTimeoutError) return make("upstream timed out", Code.DeadlineExceeded);
  if (err instanceof OpenAI.APIConnectionError) return make(`cannot reach upstream: ${connectionCause(err)}`, Code.Unavailable);
  if (err instanceof OpenAI.APIError && err.status === undefined) {
    // An error event inside a stream that had started fine.
    return make(`upstream reported an error: ${errorText(err)}`, Code.Unavailable);
  }
  if (err instanceof OpenAI.APIError) {
    return make(`upstream answered ${err.status ?? "?"}: ${errorText(err)}`, codeForStatus(err.status));
  }
  return make((err as Error)?.message ?? String(err), Code.Internal);
}

/** The gRPC code for an upstream HTTP status. */
export function codeForStatus(status: number | undefined): Code {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.NotFound;
    case 408:
    case 504:
      return Code.DeadlineExceeded;
    case 429:
      return Code.ResourceExhausted;
    case 499:
      return Code.Canceled;
    case 501:
      return Code.Unimplemented;
    default:
      return status !== undefined && status >= 500 ? Code.Unavailable : Code.Unknown;
  }
}

/** Replaces every secret (and its Bearer form) with "[redacted]". */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) {
    // Short values ("none", "") are placeholders, not keys, and would mangle ordinary words.
    if (s.length >= 8) out = out.split(s).join("[redacted]");
  }
  return out;
}

function errorText(err: InstanceType<typeof OpenAI.APIError>): string {
  const body = err.error as { message?: unknown } | undefined;
  if (body && typeof body.message === "string") return body.message;
  // The SDK's message starts with the status; drop it, it is said already.
  return err.message.replace(/^\d{3}\s*/, "") || "no details";
}

function connectionCause(err: InstanceType<typeof OpenAI.APIConnectionError>): string {
  const cause = (err as { cause?: { message?: string; code?: string; cause?: { code?: string; message?: string } } }).cause;
  const inner = cause?.cause;
  return [cause?.message, inner?.code ?? inner?.message].filter(Boolean).join(": ") || err.message;
}
