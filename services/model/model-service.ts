// ModelService: one generation in the Responses schema, forwarded to an
// upstream OpenAI-compatible backend with the official `openai` SDK.
import { create, type JsonObject } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import OpenAI from "openai";
import {
  CreateResponseResponseSchema,
  ModelService,
  StreamResponseResponseSchema,
  type CreateResponseRequest,
  type StreamResponseRequest,
  type StreamResponseResponse,
} from "../../gen/gym/v1/model_pb.js";
import type { ResponseCreateParams } from "../../gen/gym/v1/responses_pb.js";
import { paramsToJson, responseFromJson } from "../mesh/responses-json.js";
import { log } from "../mesh/log.js";
import { upstreamError } from "./upstream-errors.js";

export interface UpstreamOptions {
  /** Instance name, for logs and error messages. */
  name: string;
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

export function createModelService(options: UpstreamOptions): ServiceImpl<typeof ModelService> {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey,
    timeout: options.timeoutMs,
    maxRetries: 2,
  });

  const body = (params: ResponseCreateParams | undefined) => {
    const json = params ? paramsToJson(params) : {};
    return { ...json, model: json.model ?? options.model } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming;
  };

  const generate = async (req: CreateResponseRequest | StreamResponseRequest, ctx: HandlerContext) => {
    const started = performance.now();
    try {
      // The raw body, not the SDK's parsed object: the SDK adds convenience
      // fields (output_text) that are not part of the response.
      const raw = await client.responses.create(body(req.params), { signal: ctx.signal }).asResponse();
      const response = responseFromJson((await raw.json()) as JsonObject);
      log.info("model_response", { instance: options.name, request_id: req.requestId, ms: Math.round(performance.now() - started) });
      return response;
    } catch (err) {
      const error = upstreamError(err, options.name);
      log.warn("model_error", { instance: options.name, request_id: req.requestId, code: error.code, message: error.rawMessage });
      throw error;
    }
  };

  return {
    async createResponse(req, ctx) {
      return create(CreateResponseResponseSchema, { response: await generate(req, ctx) });
    },
    // Streams the finished items of one generation, then the whole response.
    async *streamResponse(req, ctx): AsyncGenerator<StreamResponseResponse> {
      const response = await generate(req, ctx);
      for (const [outputIndex, item] of response.output.entries()) {
        yield create(StreamResponseResponseSchema, { event: { case: "outputItemDone", value: { outputIndex, item } } });
      }
      yield create(StreamResponseResponseSchema, { event: { case: "completed", value: response } });
    },
  };
}
