// The `rollout` kind: the RolloutService that trainers and `gym collect`
// stream tasks through, spreading them over every agent instance of the config.
import type { Client } from "@connectrpc/connect";
import { z } from "zod";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { defineKind, grpc_port, port, seconds } from "../mesh/kind.js";
import { hosted, serve } from "../mesh/serve.js";
import { createRolloutHost } from "./rollout-service.js";

export const RolloutConfig = z.strictObject({
  kind: z.literal("rollout"),
  port,
  grpc_port,
  /**
   * The agent used for tasks that name none (no CollectRequest.agent, no
   * agent_ref in the row). Absent: the config's only agent instance; with
   * several, such a task fails with INVALID_ARGUMENT naming them.
   */
  default_agent: z.string().min(1).optional(),
  /** A CollectRequest's num_repeats above this fails its task with INVALID_ARGUMENT. */
  max_repeats: z.number().int().positive().default(10_000),
  /** Rollouts in flight per Collect stream before it stops reading tasks. */
  max_in_flight: z.number().int().positive().default(4096),
  /** Deadline of one rollout, its retries included; past it the rollout fails with deadline_exceeded (0: none). */
  rollout_timeout_s: seconds().default(3600),
  /**
   * Tries of a rollout that fails for an infrastructure reason (a peer
   * unavailable or restarting, a lost session), each from a fresh session;
   * after the last it is a failure, never a reward. 1: no retry.
   */
  max_attempts: z.number().int().min(1).max(10).default(3),
  /** Backoff before retry n: about retry_base_s * 2^(n-1), at most retry_max_s, with jitter. */
  retry_base_s: seconds().default(0.5),
  retry_max_s: seconds().default(8),
});
export type RolloutConfig = z.infer<typeof RolloutConfig>;

export const rolloutKind = defineKind<RolloutConfig>({
  kind: "rollout",
  schema: RolloutConfig,
  label: () => RolloutService.typeName,
  references: (c) => (c.default_agent ? [{ field: "default_agent", name: c.default_agent, kinds: ["agent"] }] : []),
  start(c, ctx) {
    const agents = new Map<string, Client<typeof AgentService>>(ctx.instancesOf("agent").map((name) => [name, ctx.peer(AgentService, name)]));
    const { impl, rolloutsInFlight, drain } = createRolloutHost({
      agents,
      defaultAgent: c.default_agent,
      maxRepeats: c.max_repeats,
      maxJsonDepth: ctx.limits?.max_json_depth,
      maxInFlight: c.max_in_flight,
      rolloutTimeoutMs: c.rollout_timeout_s * 1000,
      retry: { maxAttempts: c.max_attempts, baseMs: c.retry_base_s * 1000, maxMs: c.retry_max_s * 1000 },
    });
    return serve({ ...ctx, services: [hosted(RolloutService, impl)], gauges: { rolloutsInFlight }, onDrain: drain });
  },
});
