// Serving the model kinds of a mesh config: `model` (ModelService over gRPC
// plus the OpenAI-compatible HTTP face on the same port) and `mock_model`
// (the built-in OpenAI-compatible stand-in: scripted or replayed answers).
import { ModelService } from "../../gen/gym/v1/model_pb.js";
import { openAiFace } from "./openai-face.js";
import { ConfigError, type InstanceOf } from "../app/config.js";
import { hosted, serve, type RunningServer } from "../mesh/serve.js";
import { createMockModel } from "../mock-model/mock-model.js";
import { createModelService } from "./model-service.js";
import { ReplayBook } from "../mock-model/replay.js";
import { createUpstreamBackend } from "./upstream-backends.js";

export interface ServeBase {
  name: string;
  host: string;
  port: number;
  /** The grpc-js port (0: a free one). */
  grpcPort?: number;
}

/** A model instance: gRPC ModelService and the HTTP face, one backend behind both. */
export async function serveModel(base: ServeBase, inst: InstanceOf<"model">, baseUrl: string): Promise<RunningServer> {
  const backend = createUpstreamBackend({
    name: base.name,
    baseUrl,
    apiKey: inst.api_key,
    model: inst.model,
    api: inst.api,
    timeoutMs: inst.timeout_ms,
    poolConnections: inst.pool_connections,
    retry: { maxAttempts: inst.max_attempts, baseMs: inst.retry_base_ms, maxMs: inst.retry_max_ms },
    returnTokenIds: inst.return_token_ids,
    thinkTags: inst.think_tags,
    headers: inst.headers,
  });
  const server = await serve({ ...base, services: [hosted(ModelService, createModelService(backend))], fallback: openAiFace(backend) });
  return {
    ...server,
    close: async () => {
      await server.close();
      await backend.close();
    },
  };
}

/** The mock model (a plain HTTP server), replaying recorded rollouts when configured to. */
export function serveMockModel(base: ServeBase, inst: InstanceOf<"mock_model">): Promise<RunningServer> {
  let replay: ReplayBook | undefined;
  if (inst.replay) {
    try {
      replay = ReplayBook.fromFiles(inst.replay.files);
    } catch (err) {
      throw new ConfigError(`instances.${base.name}.replay: ${(err as Error).message}`);
    }
  }
  const mock = createMockModel({
    knobs: {
      latencyMs: inst.latency_ms,
      latencyJitterMs: inst.latency_jitter_ms,
      errorRate: inst.error_rate,
      errorStatus: inst.error_status,
      retryAfterS: inst.retry_after_s,
      stallRate: inst.stall_rate,
      stallMs: inst.stall_ms,
      resetRate: inst.reset_rate,
      reasoning: inst.reasoning,
      parallelToolCalls: inst.parallel_tool_calls,
      toolTurns: inst.tool_turns,
      tokenIds: inst.token_ids,
    },
    replay,
    unknown: inst.replay?.unknown,
  });
  return serve({ ...base, services: [], fallback: mock.handler });
}

export function mockModelLabel(inst: InstanceOf<"mock_model">): string {
  return inst.replay ? "mock OpenAI HTTP (replays recorded rollouts)" : "mock OpenAI HTTP (stand-in)";
}
