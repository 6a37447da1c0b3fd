// The `agent` kind: an AgentService running one of NeMo Gym's agent kinds
// against a model instance and a resources instance, plus NeMo Gym's `/run`.
import { z } from "zod";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ConfigError } from "../mesh/errors.js";
import { defineKind, grpc_port, port, type InstanceKind } from "../mesh/kind.js";
import { localClient } from "../mesh/local-transport.js";
import { hosted, serve } from "../mesh/serve.js";
import { nemoGymAgentRoutes } from "../nemo-gym/agent-routes.js";
import { isGymnasium, type EnvironmentRegistry } from "../resources/environment.js";
import { AGENT_KIND_NAMES, DEFAULT_AGENT_KIND, findAgentKind } from "./agent-kinds.js";
import { createAgentHost } from "./agent-service.js";

export const AgentConfig = z.strictObject({
  kind: z.literal("agent"),
  port,
  grpc_port,
  /** One of NeMo Gym's agent kinds (`gym agents` lists them). */
  agent: z.enum(AGENT_KIND_NAMES).default(DEFAULT_AGENT_KIND),
  model: z.string().min(1),
  resources: z.string().min(1),
  /** Model calls per rollout; 0 means no limit (as in NeMo Gym). */
  max_steps: z.number().int().min(0).default(10),
  /** tool_simulation_agent: give skip_verification_reward instead of calling the verifier. */
  skip_verification: z.boolean().default(false),
  skip_verification_reward: z.number().default(0),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

export function agentKind(environments: EnvironmentRegistry): InstanceKind<AgentConfig> {
  return defineKind<AgentConfig>({
    kind: "agent",
    schema: AgentConfig,
    label: () => AgentService.typeName,
    references: (c) => [
      { field: "model", name: c.model, kinds: ["model"] },
      { field: "resources", name: c.resources, kinds: ["resources", "nemo_gym_resources"] },
    ],
    // A kind that drives Reset/Step needs a multi-turn environment, the others one with a verifier.
    check(c, { name, lookup }) {
      const resources = lookup(c.resources) as { kind: string; environment?: string } | undefined;
      const env = resources?.kind === "resources" && resources.environment ? environments[resources.environment] : undefined;
      if (!env) return;
      const wantsSteps = findAgentKind(c.agent).drives === "steps";
      if (wantsSteps !== isGymnasium(env)) {
        throw new ConfigError(
          `instances.${name}.agent: ${c.agent} cannot drive "${env.name}" (${isGymnasium(env) ? "a multi-turn environment: use gymnasium_agent" : "not a multi-turn environment"})`,
        );
      }
    },
    start(c, ctx) {
      const { impl, rolloutsInFlight } = createAgentHost({
        name: ctx.name,
        kind: c.agent,
        model: ctx.peer(ModelService, c.model),
        resources: ctx.peer(ResourcesService, c.resources),
        episodes: ctx.peer(EpisodeService, c.resources),
        maxSteps: c.max_steps,
        maxJsonDepth: ctx.limits?.max_json_depth,
        skipVerification: c.skip_verification,
        skipVerificationReward: c.skip_verification_reward,
      });
      const fallback = nemoGymAgentRoutes(localClient(AgentService, impl));
      return serve({ ...ctx, services: [hosted(AgentService, impl)], fallback, gauges: { rolloutsInFlight } });
    },
  });
}
