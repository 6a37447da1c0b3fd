// When to retry an upstream request, and the wait the server asked for
// (the backoff itself is mesh/backoff.ts).
import OpenAI from "openai";

/**
 * Retried: 429 (rate limited), 5xx (the server failed or is overloaded) and
 * connection failures (refused, reset before an answer). Not retried: other
 * 4xx (the request itself is wrong), timeouts (the request may still be
 * running upstream; trying again doubles the load) and cancellations.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof OpenAI.APIUserAbortError || err instanceof OpenAI.APIConnectionTimeoutError) return false;
  if (err instanceof OpenAI.APIConnectionError) return true;
  if (err instanceof OpenAI.APIError) return err.status === 429 || (err.status !== undefined && err.status >= 500);
  return false;
}

/**
 * The wait the server asked for, in ms: `retry-after-ms` (OpenAI's), or
 * `Retry-After` as seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
