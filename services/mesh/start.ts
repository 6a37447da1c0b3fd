// Starts every instance of a config in this process, each on its own port,
// in dependency order, and records where each one listens (the address book).
import type { Client } from "@connectrpc/connect";
import { AgentService } from "../../gen/gym/v1/agent_pb.js";
import { ModelService } from "../../gen/gym/v1/model_pb.js";
import { ResourcesService } from "../../gen/gym/v1/resources_pb.js";
import { RolloutService } from "../../gen/gym/v1/rollout_pb.js";
import { createAgentService } from "../agent/agent-service.js";
import { environments } from "../environments/index.js";
import { mockModelHandler } from "../model/mock-model.js";
import { createModelService } from "../model/model-service.js";
import { createResourcesService } from "../resources/host.js";
import { createRolloutService } from "../rollout/rollout-service.js";
import { clientFor } from "./clients.js";
import { ConfigError, type InstanceConfig, type MeshConfig } from "./config.js";
import { hosted, serve, type RunningServer } from "./serve.js";

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

const START_ORDER: InstanceConfig["kind"][] = ["mock_model", "model", "resources", "agent", "rollout"];

export async function startMesh(config: MeshConfig, host = "127.0.0.1"): Promise<RunningMesh> {
  const started = new Map<string, RunningInstance>();
  const url = (name: string) => {
    const inst = started.get(name);
    if (!inst) throw new ConfigError(`instance "${name}" is not running`);
    return inst.url;
  };
  const entries = Object.entries(config.instances).sort(
    ([, a], [, b]) => START_ORDER.indexOf(a.kind) - START_ORDER.indexOf(b.kind),
  );

  try {
    for (const [name, inst] of entries) {
      const server = await startInstance(name, inst, host, url, config);
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
      return "mock OpenAI HTTP (stand-in)";
    case "model":
      return ModelService.typeName;
    case "resources":
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
  url: (name: string) => string,
  config: MeshConfig,
): Promise<RunningServer> {
  const base = { name, host, port: inst.port ?? 0 };
  switch (inst.kind) {
    case "mock_model":
      return serve({ ...base, services: [], fallback: mockModelHandler });
    case "model": {
      const baseUrl = /^https?:\/\//.test(inst.base_url) ? inst.base_url : `${url(inst.base_url)}/v1`;
      const impl = createModelService({ name, baseUrl, apiKey: inst.api_key, model: inst.model, timeoutMs: inst.timeout_ms });
      return serve({ ...base, services: [hosted(ModelService, impl)] });
    }
    case "resources": {
      const env = environments[inst.environment];
      if (!env) {
        throw new ConfigError(
          `instances.${name}.environment: unknown environment "${inst.environment}" (built in: ${Object.keys(environments).join(", ")})`,
        );
      }
      return serve({ ...base, services: [hosted(ResourcesService, createResourcesService(env))] });
    }
    case "agent": {
      const impl = createAgentService({
        name,
        model: clientFor(ModelService, url(inst.model)),
        resources: clientFor(ResourcesService, url(inst.resources)),
        maxSteps: inst.max_steps,
      });
      return serve({ ...base, services: [hosted(AgentService, impl)] });
    }
    case "rollout": {
      const agents = new Map<string, Client<typeof AgentService>>();
      for (const [other, oc] of Object.entries(config.instances)) {
        if (oc.kind === "agent") agents.set(other, clientFor(AgentService, url(other)));
      }
      const impl = createRolloutService({ agents, defaultAgent: inst.default_agent, maxInFlight: inst.max_in_flight });
      return serve({ ...base, services: [hosted(RolloutService, impl)] });
    }
  }
}
