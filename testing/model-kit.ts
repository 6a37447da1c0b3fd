// For tests and benchmarks: a mock model and a model instance in front of
// it, both real servers on loopback ports, configured as a user would (YAML
// through loadConfig), plus a typed client.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { stringify } from "yaml";
import { ModelService } from "../gen/gymmesh/v1/model_pb.js";
import { loadConfig } from "../services/app/config.js";
import { serve, type RunningServer } from "../services/mesh/serve.js";
import { serveModel } from "../services/model/kind.js";
import { createMockModel, type MockModel, type MockModelOptions } from "../services/mock-model/mock-model.js";

export interface RunningMock {
  mock: MockModel;
  server: RunningServer;
  /** The OpenAI base URL: `http://127.0.0.1:port/v1`. */
  baseUrl: string;
}

export async function startMock(options: MockModelOptions = {}): Promise<RunningMock> {
  const mock = createMockModel(options);
  const server = await serve({ name: "mock", services: [], fallback: mock.handler });
  return { mock, server, baseUrl: `${server.url}/v1` };
}

export interface RunningModel {
  server: RunningServer;
  client: Client<typeof ModelService>;
  close(): Promise<void>;
}

/** A model instance (`kind: model` plus `fields`) in front of `baseUrl`. */
export async function startModel(baseUrl: string, fields: Record<string, unknown> = {}): Promise<RunningModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-model-"));
  const file = path.join(dir, "mesh.yaml");
  fs.writeFileSync(file, stringify({ instances: { policy: { kind: "model", base_url: baseUrl, model: "mock", ...fields } } }));
  const inst = loadConfig(file, {}).instances.policy!;
  if (inst.kind !== "model") throw new Error("not a model instance");
  const server = await serveModel({ name: "policy", host: "127.0.0.1", port: 0 }, inst, baseUrl);
  const client = createClient(ModelService, createGrpcTransport({ baseUrl: server.url }));
  return { server, client, close: () => server.close() };
}
