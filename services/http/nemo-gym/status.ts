// gRPC codes <-> HTTP statuses for NeMo Gym's plain HTTP routes.
import { Code, ConnectError } from "@connectrpc/connect";
import { HttpError } from "./http-json.js";

/** A failed RPC as the HTTP status FastAPI would give the same mistake. */
export function httpErrorOf(err: unknown): HttpError {
  const error = ConnectError.from(err);
  const status: Partial<Record<Code, number>> = {
    [Code.InvalidArgument]: 422,
    [Code.NotFound]: 404,
    [Code.DeadlineExceeded]: 504,
    [Code.Unavailable]: 503,
    [Code.ResourceExhausted]: 429,
    [Code.Unauthenticated]: 401,
    [Code.PermissionDenied]: 403,
  };
  return new HttpError(status[error.code] ?? 500, error.rawMessage);
}

/** An HTTP status from a NeMo Gym server as the gRPC code that fits. */
export function codeOfStatus(status: number): Code {
  if (status === 404) return Code.NotFound;
  if (status === 429) return Code.ResourceExhausted;
  if (status === 408 || status === 504) return Code.DeadlineExceeded;
  if (status >= 500) return Code.Unavailable;
  if (status === 401) return Code.Unauthenticated;
  if (status === 403) return Code.PermissionDenied;
  return Code.InvalidArgument;
}
