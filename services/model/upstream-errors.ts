// Maps failures of the upstream OpenAI-compatible backend to gRPC codes.
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";

export function upstreamError(err: unknown, backend: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof OpenAI.APIUserAbortError) return new ConnectError(`${backend}: request cancelled`, Code.Canceled);
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new ConnectError(`${backend}: upstream timed out`, Code.DeadlineExceeded);
  if (err instanceof OpenAI.APIConnectionError) return new ConnectError(`${backend}: cannot reach upstream: ${err.message}`, Code.Unavailable);
  if (err instanceof OpenAI.APIError) {
    const text = `${backend}: upstream answered ${err.status ?? "?"}: ${err.message}`;
    return new ConnectError(text, codeForStatus(err.status));
  }
  return new ConnectError(`${backend}: ${(err as Error).message ?? String(err)}`, Code.Internal);
}

function codeForStatus(status: number | undefined): Code {
  switch (status) {
    case 400:
    case 422:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.NotFound;
    case 408:
      return Code.DeadlineExceeded;
    case 429:
      return Code.ResourceExhausted;
    default:
      return status !== undefined && status >= 500 ? Code.Unavailable : Code.Unknown;
  }
}
