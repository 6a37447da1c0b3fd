// The `model` kind: ModelService over gRPC plus the OpenAI-compatible HTTP
// face on the same port, one upstream backend (OpenAI SDK) behind both.
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { z } from "zod";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ConfigError } from "../mesh/errors.js";
import { isObject, TOKEN_FIELDS, type ModelBackend } from "../openai/backend.js";
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
  /**
   * Training: ask for prompt/generation token ids and logprobs: vLLM's Chat Completions extensions, or, with
   * api: responses, a mock_model instance (OpenAI's Responses API has none: refused when the config loads).
   */
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
  check(c, { name }) {
    // Only a mock_model instance (base_url names one) returns token ids over the Responses API.
    if (c.return_token_ids && c.api === "responses" && isUrl(c.base_url)) {
      throw new ConfigError(
        `instances.${name}.return_token_ids: the Responses API does not return token ids; use api: chat_completions (vLLM), or name a mock_model instance as base_url`,
      );
    }
  },
  start: (c, ctx) => serveModel(ctx, c, isUrl(c.base_url) ? c.base_url : `${ctx.httpUrl(c.base_url)}/v1`),
});

/** A model instance in front of the OpenAI-compatible backend at `baseUrl`. */
export async function serveModel(
  ctx: Pick<StartContext, "name" | "host" | "port"> & { grpcPort?: number },
  c: ModelConfig,
  baseUrl: string,
): Promise<RunningServer> {
  const upstream = createUpstreamBackend({
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
  const backend = c.api === "responses" && c.return_token_ids ? askingForTokens(upstream) : upstream;
  const server = await serve({ ...ctx, services: [hosted(ModelService, createModelService(backend))], fallback: openAiFace(backend) });
  return {
    ...server,
    close: async () => {
      await server.close();
      await backend.close();
    },
  };
}

/**
 * api: responses with return_token_ids (a mock_model backend): asks with
 * vLLM's field, `return_token_ids: true` in the request body, and fails as
 * the Chat Completions bridge does when an answer comes without them.
 */
function askingForTokens(inner: ModelBackend): ModelBackend {
  const ask = (params: JsonObject): JsonObject => ({ ...params, return_token_ids: true });
  const checked = (response: JsonObject): JsonObject => {
    const last = Array.isArray(response.output) ? response.output.at(-1) : undefined;
    if (isObject(last) && !TOKEN_FIELDS.every((k) => Array.isArray(last[k]))) {
      throw new ConnectError(
        `${inner.name}: the backend returned no token ids; with api: responses only a mock_model backend returns them (or set return_token_ids: false)`,
        Code.FailedPrecondition,
      );
    }
    return response;
  };
  return {
    name: inner.name,
    model: inner.model,
    create: async (params, options) => checked(await inner.create(ask(params), options)),
    async *stream(params, options) {
      for await (const event of inner.stream(ask(params), options)) {
        if (event.type === "completed") checked(event.response);
        yield event;
      }
    },
    close: () => inner.close(),
  };
}
