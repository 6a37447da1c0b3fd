// AgentService: runs one rollout per call with the configured agent kind.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { AgentService, RunStreamResponseSchema, type RunStreamResponse } from "../../gen/gym/v1/agent_pb.js";
import type { Item } from "../../gen/gym/v1/responses_pb.js";
import { AsyncQueue } from "../mesh/async-queue.js";
import { findAgentKind, DEFAULT_AGENT_KIND, type AgentRunner } from "./agent-kinds.js";
import type { AgentDeps } from "./rollout-parts.js";

export function createAgentService(deps: AgentDeps): ServiceImpl<typeof AgentService> {
  return createAgentHost(deps).impl;
}

/** The service and a count of its rollouts running now (for the rollouts_in_flight gauge). */
export function createAgentHost(deps: AgentDeps): { impl: ServiceImpl<typeof AgentService>; rolloutsInFlight: () => number } {
  const run = findAgentKind(deps.kind ?? DEFAULT_AGENT_KIND).run;
  let inFlight = 0;
  const runRollout: AgentRunner = async (...args) => {
    inFlight++;
    try {
      return await run(...args);
    } finally {
      inFlight--;
    }
  };
  const impl: ServiceImpl<typeof AgentService> = {
    async run(req, ctx) {
      if (!req.task) throw new ConnectError("RunRequest.task is required", Code.InvalidArgument);
      const rollout = await runRollout(deps, req.task, req.rolloutId, { signal: ctx.signal, timeoutMs: ctx.timeoutMs() });
      return { rollout };
    },

    async *runStream(req, ctx): AsyncGenerator<RunStreamResponse> {
      if (!req.task) throw new ConnectError("RunStreamRequest.task is required", Code.InvalidArgument);
      const events = new AsyncQueue<RunStreamResponse>();
      const onItem = (item: Item) => events.push(create(RunStreamResponseSchema, { event: { case: "item", value: item } }));
      runRollout(deps, req.task, req.rolloutId, { signal: ctx.signal, timeoutMs: ctx.timeoutMs(), onItem }).then(
        (rollout) => {
          events.push(create(RunStreamResponseSchema, { event: { case: "rollout", value: rollout } }));
          events.end();
        },
        (err) => events.fail(err),
      );
      yield* events;
    },
  };
  return { impl, rolloutsInFlight: () => inFlight };
}
