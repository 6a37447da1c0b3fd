// AgentService: runs one rollout per call with the configured agent kind.
import { clone, create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { AgentService, RunStreamResponseSchema, type RunRequest, type RunStreamRequest, type RunStreamResponse } from "../../gen/gymmesh/v1/agent_pb.js";
import { ItemSchema, type Item } from "../../gen/gymmesh/v1/responses_pb.js";
import type { Task } from "../../gen/gymmesh/v1/task_pb.js";
import { AsyncQueue } from "../mesh/async-queue.js";
import { rolloutLine, rowFromJsonText } from "../nemo-gym/rollout-line.js";
import { taskToJson } from "../openai/responses-json.js";
import { requestIdOf } from "../mesh/request-id.js";
import { findAgentKind, DEFAULT_AGENT_KIND, type AgentRunner } from "./agent-kinds.js";
import type { AgentDeps } from "./rollout-parts.js";
import { inRolloutSpan, tracedResources } from "./rollout-trace.js";

export function createAgentService(deps: AgentDeps): ServiceImpl<typeof AgentService> {
  return createAgentHost(deps).impl;
}

/** The service and a count of its rollouts running now (for the rollouts_in_flight gauge). */
export function createAgentHost(agentDeps: AgentDeps): { impl: ServiceImpl<typeof AgentService>; rolloutsInFlight: () => number } {
  const run = findAgentKind(agentDeps.kind ?? DEFAULT_AGENT_KIND).run;
  // Tool calls and verify in spans of their own (no-ops unless the process traces).
  const deps: AgentDeps = { ...agentDeps, resources: tracedResources(agentDeps.resources) };
  let inFlight = 0;
  const runRollout: AgentRunner = async (deps, task, rolloutId, options) => {
    inFlight++;
    try {
      return await inRolloutSpan(deps.name, rolloutId, () => run(deps, task, rolloutId, options));
    } finally {
      inFlight--;
    }
  };
  const impl: ServiceImpl<typeof AgentService> = {
    async run(req, ctx) {
      const { task, row } = taskOf(req, "RunRequest", deps.maxJsonDepth);
      const rollout = await runRollout(deps, task, rolloutIdOf(req, ctx), { signal: ctx.signal, timeoutMs: ctx.timeoutMs() });
      if (!req.wantOutputLine) return { rollout };
      return { rollout, outputLineJson: JSON.stringify(rolloutLine(row ?? taskToJson(task), rollout, { agent: deps.name })) };
    },

    async *runStream(req, ctx): AsyncGenerator<RunStreamResponse> {
      const { task } = taskOf(req, "RunStreamRequest", deps.maxJsonDepth);
      const events = new AsyncQueue<RunStreamResponse>();
      // A copy: the item stays in the rollout, and the caller owns what it is handed (the in-process transport does not copy).
      const onItem = (item: Item) => events.push(create(RunStreamResponseSchema, { event: { case: "item", value: clone(ItemSchema, item) } }));
      runRollout(deps, task, rolloutIdOf(req, ctx), { signal: ctx.signal, timeoutMs: ctx.timeoutMs(), onItem }).then(
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

/** The request's task, typed or from its NeMo Gym row (then also the row, for the output line). */
function taskOf(req: RunRequest | RunStreamRequest, what: string, maxJsonDepth?: number): { task: Task; row?: JsonObject } {
  if (req.input.case === "task") return { task: req.input.value };
  if (req.input.case === "rowJson") return rowFromJsonText(req.input.value, maxJsonDepth);
  throw new ConnectError(`${what} needs a task or a row_json`, Code.InvalidArgument);
}

/** The caller's rollout id, else its x-request-id, else one the agent makes up. */
function rolloutIdOf(req: RunRequest | RunStreamRequest, ctx: HandlerContext): string {
  return req.rolloutId || requestIdOf(ctx) || "";
}
