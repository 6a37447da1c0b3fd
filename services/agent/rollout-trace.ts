// The agent's part of a rollout's trace (OpenTelemetry API; no-ops when the
// process does not trace): the rollout's `gym.rollout` span when the agent is
// called directly (under the rollout service there is one above it already),
// the trace id in the Rollout, and spans around the resources calls every
// agent kind makes: `execute_tool {name}` and `verify`, after the GenAI
// semantic conventions.
import type { Client } from "@connectrpc/connect";
import { context, SpanKind, type SpanOptions } from "@opentelemetry/api";
import type { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import type { Rollout } from "../../gen/gymmesh/v1/task_pb.js";
import { activeTraceId, endSpan, inRolloutTrace, inSpan, startRolloutSpan } from "../mesh/tracing.js";

/** Runs one rollout in its trace: a new `gym.rollout` span unless one is above; the Rollout gets the trace id. */
export async function inRolloutSpan(agent: string, rolloutId: string, run: () => Promise<Rollout>): Promise<Rollout> {
  const traced = inRolloutTrace() ? undefined : startRolloutSpan(rolloutId, { "gym.agent.name": agent });
  if (!traced) {
    const rollout = await run();
    rollout.traceId ||= activeTraceId();
    return rollout;
  }
  try {
    const rollout = await context.with(traced.context, run);
    rollout.traceId = traced.span.spanContext().traceId;
    traced.span.setAttribute("gym.reward", rollout.verdict?.reward ?? 0);
    endSpan(traced.span);
    return rollout;
  } catch (err) {
    endSpan(traced.span, err);
    throw err;
  }
}

const TOOL: SpanOptions = { kind: SpanKind.INTERNAL };

/** The resources client with a span around each tool call and the verify call. */
export function tracedResources(client: Client<typeof ResourcesService>): Client<typeof ResourcesService> {
  return {
    ...client,
    callTool: (req, options) =>
      inSpan(`execute_tool ${req.name ?? ""}`, TOOL, (span) => {
        if (span.isRecording()) {
          span.setAttributes({
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": req.name ?? "",
            "gen_ai.tool.call.id": req.callId ?? "",
            "gen_ai.tool.type": "function",
          });
        }
        return client.callTool(req, options);
      }),
    verify: (req, options) =>
      inSpan("verify", TOOL, async (span) => {
        const response = await client.verify(req, options);
        if (span.isRecording()) span.setAttribute("gym.reward", response.verdict?.reward ?? 0);
        return response;
      }),
  };
}
