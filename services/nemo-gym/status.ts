// An HTTP status from a NeMo Gym server as the gRPC code that fits.
import { Code } from "@connectrpc/connect";

export function codeOfStatus(status: number): Code {
  if (status === 404) return Code.NotFound;
  if (status === 429) return Code.ResourceExhausted;
  if (status === 408 || status === 504) return Code.DeadlineExceeded;
  if (status >= 500) return Code.Unavailable;
  if (status === 401) return Code.Unauthenticated;
  if (status === 403) return Code.PermissionDenied;
  return Code.InvalidArgument;
}
