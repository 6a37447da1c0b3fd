// The request metadata that correlates the logs of every call one rollout
// makes (the rollout id), across services and protocols.
import type { HandlerContext } from "@connectrpc/connect";

export const REQUEST_ID_HEADER = "x-request-id";

/** The caller's correlation id, when it sent one. */
export function requestIdOf(ctx: HandlerContext): string | undefined {
  return ctx.requestHeader.get(REQUEST_ID_HEADER) ?? undefined;
}
