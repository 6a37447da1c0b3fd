// Starts every instance of a config in this process, each on its own port,
// in dependency order, and records where each one listens (the address book).
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { AgentService } from "../../gen/gym/v1/agent_pb.js";
import { ModelService } from "../../gen/gym/v1/model_pb.js";
import { ResourcesService } from "../../gen/gym/v1/resources_pb.js";
import { RolloutService } from "../../gen/gym/v1/rollout_pb.js";
import { createAgentHost } from "../agent/agent-service.js";
import { environments } from "../environments/index.js";
import { mockModelLabel, serveMockModel, serveModel } from "../model/instances.js";
import { isGymnasium } from "../resources/environment.js";
import { createResourcesHost } from "../resources/host.js";
import { createRolloutHost } from "../rollout/rollout-service.js";
import { nemoGymAgentRoutes } from "../nemo-gym/agent-routes.js";
import { localClient } from "../nemo-gym/local-client.js";
import { createRemoteResourcesService } from "../nemo-gym/remote-resources.js";
import { nemoGymResourcesRoutes } from "../nemo-gym/resources-routes.js";
import { clientFor } from "../mesh/clients.js";
import { ConfigError, type InstanceConfig, type InstanceOf, type MeshConfig } from "./config.js";
import { hosted, serve, type RunningServer } from "../mesh/serve.js";

export interface RunningInstance {
  name: string;
  kind: InstanceConfig["kind"];
  /** The gRPC service it serves, or a description for plain HTTP servers. */
  service: string;
  url: string;
  server: RunningServer;
}

export interface RunningMesh {
  instances: RunningInstance[];
  url(name: string): string;
  close(): Promise<void>;
}

const START_ORDER: InstanceConfig["kind"][] = ["mock_model", "model", "resources", "nemo_gym_resources", "agent", "rollout"];

export interface StartOptions {
  /** The address to listen on; 0.0.0.0 in a container. */
  host?: string;
  /** Start only these instances; the others run elsewhere, at `addresses`. */
  only?: string[];
}

export async function startMesh(config: MeshConfig, options: StartOptions = {}): Promise<RunningMesh> {
  const host = options.host ?? "127.0.0.1";
  for (const name of options.only ?? []) {
    if (!config.instances[name]) throw new ConfigError(`no instance "${name}" in the config (instances: ${Object.keys(config.instances).join(", ")})`);
  }
  const started = new Map<string, RunningInstance>();
  const address = (name: string) => {
    const elsewhere = config.addresses?.[name];
    if (elsewhere) return elsewhere;
    throw new ConfigError(`instance "${name}" is not started here: give its URL under addresses.${name}`);
  };
  // The main (HTTP) port: the model kind reaches a mock_model's OpenAI face there.
  const url = (name: string) => {
    const found = started.get(name)?.url ?? address(name);
    if (!/^https?:\/\//.test(found)) throw new ConfigError(`addresses.${name}: needs an http(s) URL here (its HTTP API), not ${found}`);
    return found;
  };
  // A client of another instance: in-process when it was started here, else over the network at its address.
  const peer = <S extends DescService>(service: S, name: string): Client<S> => {
    const inst = started.get(name);
    return inst ? createClient(service, inst.server.localTransport) : clientFor(service, address(name));
  };
  const entries = Object.entries(config.instances)
    .filter(([name]) => !options.only || options.only.includes(name))
    .sort(
    ([, a], [, b]) => START_ORDER.indexOf(a.kind) - START_ORDER.indexOf(b.kind),
  );

  try {
    for (const [name, inst] of entries) {
      const server = await startInstance(name, inst, host, { url, peer }, config);
      started.set(name, { name, kind: inst.kind, service: serviceLabel(inst), url: server.url, server });
    }
  } catch (err) {
    await Promise.all([...started.values()].map((i) => i.server.close()));
    throw err;
  }

  return {
    instances: [...started.values()],
    url,
    // Front to back, so callers drain before the services they call.
    close: async () => {
      for (const inst of [...started.values()].reverse()) await inst.server.close();
    },
  };
}

function serviceLabel(inst: InstanceConfig): string {
  switch (inst.kind) {
    case "mock_model":
      return mockModelLabel(inst);
    case "model":
      return ModelService.typeName;
    case "resources":
    case "nemo_gym_resources":
      return ResourcesService.typeName;
    case "agent":
      return AgentService.typeName;
    case "rollout":
      return RolloutService.typeName;
  }
}

function startInstance(
  name: string,
  inst: InstanceConfig,
  host: string,
  { url, peer }: { url: (name: string) => string; peer: <S extends DescService>(service: S, name: string) => Client<S> },
  config: MeshConfig,
): Promise<RunningServer> {
  const base = { name, host, port: inst.port ?? 0, grpcPort: inst.kind === "mock_model" ? undefined : (inst.grpc_port ?? 0) };
  switch (inst.kind) {
    case "mock_model":
      return serveMockModel(base, inst);
    case "model": {
      const baseUrl = /^https?:\/\//.test(inst.base_url) ? inst.base_url : `${url(inst.base_url)}/v1`;
      return serveModel(base, inst, baseUrl);
    }
    case "resources": {
      const env = environments[inst.environment];
      if (!env) {
        throw new ConfigError(
          `instances.${name}.environment: unknown environment "${inst.environment}" (built in: ${Object.keys(environments).join(", ")})`,
        );
      }
      const { impl, openSessions } = createResourcesHost(env, { idleTimeoutMs: inst.session_idle_timeout_s * 1000 });
      const fallback = nemoGymResourcesRoutes(localClient(ResourcesService, impl), name);
      return serve({ ...base, services: [hosted(ResourcesService, impl)], fallback, gauges: { sessionsOpen: openSessions } });
    }
    case "agent": {
      checkAgentFits(name, inst, config);
      const { impl, rolloutsInFlight } = createAgentHost({
        name,
        kind: inst.agent,
        model: peer(ModelService, inst.model),
        resources: peer(ResourcesService, inst.resources),
        maxSteps: inst.max_steps,
        skipVerification: inst.skip_verification,
        skipVerificationReward: inst.skip_verification_reward,
      });
      const fallback = nemoGymAgentRoutes(localClient(AgentService, impl));
      return serve({ ...base, services: [hosted(AgentService, impl)], fallback, gauges: { rolloutsInFlight } });
    }
    case "nemo_gym_resources":
      return serve({ ...base, services: [hosted(ResourcesService, createRemoteResourcesService(inst.base_url, name))] });
    case "rollout": {
      const agents = new Map<string, Client<typeof AgentService>>();
      for (const [other, oc] of Object.entries(config.instances)) {
        if (oc.kind === "agent") agents.set(other, peer(AgentService, other));
      }
      const { impl, rolloutsInFlight } = createRolloutHost({
        agents,
        defaultAgent: inst.default_agent,
        maxInFlight: inst.max_in_flight,
        rolloutTimeoutMs: inst.rollout_timeout_s * 1000,
      });
      return serve({ ...base, services: [hosted(RolloutService, impl)], gauges: { rolloutsInFlight } });
    }
  }
}

/** A gymnasium_agent needs a multi-turn environment, and the other kinds one with a verifier. */
function checkAgentFits(name: string, inst: InstanceOf<"agent">, config: MeshConfig): void {
  const resources = config.instances[inst.resources];
  const env = resources?.kind === "resources" ? environments[resources.environment] : undefined;
  if (!env) return;
  const wantsSteps = inst.agent === "gymnasium_agent";
  if (wantsSteps !== isGymnasium(env)) {
    throw new ConfigError(
      `instances.${name}.agent: ${inst.agent} cannot drive "${env.name}" (${isGymnasium(env) ? "a multi-turn environment: use gymnasium_agent" : "not a multi-turn environment"})`,
    );
  }
}
