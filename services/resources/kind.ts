// The `resources` kind: a ResourcesService (or, for a multi-turn
// environment, an EpisodeService) hosting one environment of the registry
// (with its own settings), plus NeMo Gym's HTTP routes for it.
import { z } from "zod";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ConfigError } from "../mesh/errors.js";
import { defineKind, grpc_port, port, seconds, type InstanceKind, type StartContext } from "../mesh/kind.js";
import { localClient } from "../mesh/local-transport.js";
import { hosted, serve } from "../mesh/serve.js";
import { nemoGymGymnasiumRoutes } from "../nemo-gym/gymnasium-routes.js";
import { nemoGymResourcesRoutes } from "../nemo-gym/resources-routes.js";
import { environmentSettings, isGymnasium, type EnvironmentRegistry, type ModelClient } from "./environment.js";
import { createResourcesHost } from "./host.js";

export const ResourcesConfig = z.strictObject({
  kind: z.literal("resources"),
  port,
  grpc_port,
  /** An environment of the registry (a folder under services/environments/). */
  environment: z.string().min(1),
  /** The environment's own settings (see `gym envs`), checked against its schema. */
  settings: z.record(z.string(), z.unknown()).default({}),
  /** A session unused this long is dropped; 0 keeps sessions until closed. */
  session_idle_timeout_s: seconds().default(1800),
  /** Sessions (and episodes) open at once at most; one more is RESOURCE_EXHAUSTED (NeMo Gym routes: 429) until some close or expire. */
  max_sessions: z.number().int().positive().default(10_000),
  /**
   * Bytes the open sessions may hold, counted as their tasks' serialized
   * size (the environment's own state is not counted); past it a new
   * session is RESOURCE_EXHAUSTED. 1 GiB.
   */
  max_session_bytes: z.number().int().positive().default(1024 ** 3),
});
export type ResourcesConfig = z.infer<typeof ResourcesConfig>;

export function resourcesKind(environments: EnvironmentRegistry): InstanceKind<ResourcesConfig> {
  const environmentOf = (c: ResourcesConfig, name: string) => {
    const env = environments[c.environment];
    if (!env) {
      throw new ConfigError(`instances.${name}.environment: unknown environment "${c.environment}" (built in: ${Object.keys(environments).join(", ")})`);
    }
    return env;
  };
  return defineKind<ResourcesConfig>({
    kind: "resources",
    schema: ResourcesConfig,
    label: (c) => (environments[c.environment] && isGymnasium(environments[c.environment]!) ? EpisodeService : ResourcesService).typeName,
    // Model instances the environment's verifier calls (a judge), named in its settings.
    references(c) {
      const env = environments[c.environment];
      if (!env?.models) return [];
      let settings: unknown;
      try {
        settings = environmentSettings(env, c.settings);
      } catch {
        return []; // check() reports the settings
      }
      return env.models(settings).map((m) => ({ field: `settings.${m.field}`, name: m.name, kinds: ["model"] }));
    },
    check(c, { name }) {
      const env = environmentOf(c, name);
      try {
        c.settings = environmentSettings(env, c.settings) as Record<string, unknown>;
      } catch (err) {
        const issue = err instanceof z.ZodError ? err.issues[0] : undefined;
        const at = issue ? [`instances.${name}.settings`, ...issue.path.map(String)].join(".") : `instances.${name}.settings`;
        throw new ConfigError(`${at}: ${issue?.message ?? (err as Error).message}`);
      }
    },
    async start(c, ctx) {
      const env = environmentOf(c, ctx.name);
      const host = createResourcesHost(env, {
        settings: c.settings,
        idleTimeoutMs: c.session_idle_timeout_s * 1000,
        maxSessions: c.max_sessions,
        maxSessionBytes: c.max_session_bytes,
        model: env.models ? modelClients(ctx.peer) : undefined,
      });
      const gauges = { sessionsOpen: host.openSessions };
      // A multi-turn environment speaks EpisodeService (and NeMo Gym's gymnasium routes, /reset and /step),
      // the others ResourcesService (and NeMo Gym's resources routes).
      if (host.multiTurn) {
        const fallback = nemoGymGymnasiumRoutes(localClient(EpisodeService, host.episodes), ctx.name);
        return serve({ ...ctx, services: [hosted(EpisodeService, host.episodes)], fallback, gauges });
      }
      const fallback = nemoGymResourcesRoutes(localClient(ResourcesService, host.resources), ctx.name);
      return serve({ ...ctx, services: [hosted(ResourcesService, host.resources)], fallback, gauges });
    },
  });
}

/** One client per model instance, made on first use. */
function modelClients(peer: StartContext["peer"]): (name: string) => ModelClient {
  const clients = new Map<string, ModelClient>();
  return (name) => {
    let client = clients.get(name);
    if (!client) clients.set(name, (client = peer(ModelService, name)));
    return client;
  };
}
