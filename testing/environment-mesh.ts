// For environment tests: the part of config/environments.yaml that one
// environment needs (the model instances, its resources server and the
// agents driving it), started on loopback ports with the mock model.
import { fileURLToPath } from "node:url";
import type { Client } from "@connectrpc/connect";
import { AgentService } from "../gen/gymmesh/v1/agent_pb.js";
import { ResourcesService } from "../gen/gymmesh/v1/resources_pb.js";
import { clientFor } from "../services/mesh/clients.js";
import { loadConfig, type MeshConfig } from "../services/app/config.js";
import { setQuiet } from "../services/mesh/log.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";

export const ENVIRONMENTS_CONFIG = fileURLToPath(new URL("../config/environments.yaml", import.meta.url));

export interface EnvironmentMesh {
  mesh: RunningMesh;
  resources: Client<typeof ResourcesService>;
  /** An agent instance of the config, by name. */
  agent(name: string): Client<typeof AgentService>;
  close(): Promise<void>;
}

export interface EnvironmentMeshOptions {
  /** The config to take the instances from (default config/environments.yaml). */
  file?: string;
  /** Rollout files the mock model replays (what a real model answered), instead of its script. */
  replay?: string[];
}

export async function startEnvironmentMesh(environment: string, options: EnvironmentMeshOptions = {}): Promise<EnvironmentMesh> {
  const { file = ENVIRONMENTS_CONFIG, replay } = options;
  setQuiet(true);
  // No POLICY_* variables: the mock model.
  const config = loadConfig(file, {});
  const keep: MeshConfig["instances"] = {};
  const resourceNames = new Set<string>();
  for (const [name, inst] of Object.entries(config.instances)) {
    if (inst.kind === "resources" && inst.environment === environment) resourceNames.add(name);
  }
  if (resourceNames.size === 0) throw new Error(`${file}: no resources instance hosts "${environment}"`);
  for (const [name, inst] of Object.entries(config.instances)) {
    const wanted =
      inst.kind === "mock_model" || inst.kind === "model" || resourceNames.has(name) || (inst.kind === "agent" && resourceNames.has(inst.resources));
    if (wanted) keep[name] = inst.kind === "mock_model" && replay ? { ...inst, replay: { files: replay, unknown: "error" } } : inst;
  }
  const mesh = await startMesh({ ...config, instances: keep });
  const [resourcesName] = resourceNames;
  return {
    mesh,
    resources: clientFor(ResourcesService, mesh.url(resourcesName!)),
    agent: (name) => clientFor(AgentService, mesh.url(name)),
    close: () => mesh.close(),
  };
}
