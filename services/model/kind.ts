// The `model` kind: ModelService over gRPC plus the OpenAI-compatible HTTP
// face on the same port, one upstream backend (OpenAI SDK) behind both.
import { z } from "zod";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { grpc_port, port, seconds, defineKind, type StartContext } from "../mesh/kind.js";
import { hosted, serve, type RunningServer } from "../mesh/serve.js";
import { createModelService } from "./model-service.js";
import { openAiFace } from "./openai-face.js";
import { createUpstreamBackend } from "./upstream-backends.js";

export const ModelConfig = z.strictObject({
  kind: z.literal("model"),
  port,
  grpc_port,
  /** An OpenAI-compatible base URL (`http://host/v1`), or the name of a mock_model instance. */
  base_url: z.string().min(1),
  api_key: z.string().default("none"),
  /** The backend's model name, sent as `model` with every request (what a request names is replaced, as in NeMo Gym). */
  model: z.string().min(1),
  /** Per upstream request. */
  timeout_s: seconds().positive().default(600),
  /** What the backend speaks: "responses" (OpenAI) or "chat_completions" (vLLM, SGLang...; converted both ways). */
  api: z.enum(["responses", "chat_completions"]).default("responses"),
  /** Training: ask for prompt/generation token ids and logprobs (vLLM's Chat Completions extensions). */
  return_token_ids: z.boolean().default(false),
  /** Chat Completions: read `<think>...</think>` in the text as reasoning. */
  think_tags: z.boolean().default(true),
  /** Keep-alive connections to the backend at most; more requests wait for a free one. */
  pool_connections: z.number().int().positive().default(256),
  /** Tries per request on 429, 5xx and connection failures (1: no retry). */
  max_attempts: z.number().int().min(1).default(3),
  /** Backoff before retry n: about retry_base_s * 2^(n-1), at most retry_max_s, with jitter (Retry-After wins). */
  retry_base_s: seconds().default(0.5),
  retry_max_s: seconds().default(8),
  /** Extra headers on every upstream request; their values are kept out of logs and errors like the key. */
  headers: z.record(z.string(), z.string()).default({}),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

const isUrl = (s: string) => /^https?:\/\//.test(s);

export const modelKind = defineKind<ModelConfig>({
  kind: "model",
  schema: ModelConfig,
  label: () => ModelService.typeName,
  references: (c) => (isUrl(c.base_url) ? [] : [{ field: "base_url", name: c.base_url, kinds: ["mock_model"] }]),
  start: (c, ctx) => serveModel(ctx, c, isUrl(c.base_url) ? c.base_url : `${ctx.httpUrl(c.base_url)}/v1`),
});

/** A model instance in front of the OpenAI-compatible backend at `baseUrl`. */
export async function serveModel(
  ctx: Pick<StartContext, "name" | "host" | "port"> & { grpcPort?: number },
  c: ModelConfig,
  baseUrl: string,
): Promise<RunningServer> {
  const backend = createUpstreamBackend({
    name: ctx.name,
    baseUrl,
    apiKey: c.api_key,
    model: c.model,
    api: c.api,
    timeoutMs: c.timeout_s * 1000,
    poolConnections: c.pool_connections,
    retry: { maxAttempts: c.max_attempts, baseMs: c.retry_base_s * 1000, maxMs: c.retry_max_s * 1000 },
    returnTokenIds: c.return_token_ids,
    thinkTags: c.think_tags,
    headers: c.headers,
  });
  const server = await serve({ ...ctx, services: [hosted(ModelService, createModelService(backend))], fallback: openAiFace(backend) });
  return {
    ...server,
    close: async () => {
      await server.close();
      await backend.close();
    },
  };
}
