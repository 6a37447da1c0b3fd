// ModelService: one generation in the Responses schema over gRPC, served by a
// model backend (an upstream OpenAI-compatible server, converted as needed).
// The RPC's deadline and cancellation reach the upstream request.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  CreateResponseResponseSchema,
  ModelService,
  StreamResponseResponseSchema,
  type CreateResponseRequest,
  type StreamResponseRequest,
  type StreamResponseResponse,
} from "../../gen/gymmesh/v1/model_pb.js";
import type { Response } from "../../gen/gymmesh/v1/responses_pb.js";
import { itemFromJson, JsonShapeError, paramsToJson, responseFromJson } from "../openai/responses-json.js";
import { log } from "../mesh/log.js";
import { endSpan } from "../mesh/tracing.js";
import { context } from "@opentelemetry/api";
import { recordResponse, startChatSpan } from "./chat-span.js";
import { requestIdOf } from "../mesh/request-id.js";
import type { GenerateOptions, ModelBackend, ModelEvent } from "../openai/backend.js";

export function createModelService(backend: ModelBackend): ServiceImpl<typeof ModelService> {
  const prepare = (req: CreateResponseRequest | StreamResponseRequest, ctx: HandlerContext, rpc: string) => {
    if (!req.params) throw new ConnectError(`${backend.name}: ${rpc}Request.params is required`, Code.InvalidArgument);
    const options: GenerateOptions = { signal: ctx.signal, timeoutMs: ctx.timeoutMs(), requestId: requestIdOf(ctx) };
    return { params: paramsToJson(req.params), options };
  };
  const done = (event: string, ctx: HandlerContext, started: number, err?: unknown) => {
    const fields = { instance: backend.name, request_id: requestIdOf(ctx), ms: Math.round(performance.now() - started) };
    if (err === undefined) log.info(event, fields);
    else {
      const e = ConnectError.from(err);
      log.warn("model_error", { ...fields, code: Code[e.code], message: e.rawMessage });
    }
  };

  return {
    async createResponse(req, ctx) {
      const started = performance.now();
      try {
        const { params, options } = prepare(req, ctx, "CreateResponse");
        const chat = startChatSpan(params, backend.model);
        let json: JsonObject;
        try {
          json = await (chat ? context.with(chat.context, () => backend.create(params, options)) : backend.create(params, options));
          if (chat) recordResponse(chat.span, json);
        } catch (err) {
          if (chat) endSpan(chat.span, err);
          throw err;
        }
        if (chat) chat.span.end();
        const response = toProto(json, backend.name);
        done("model_response", ctx, started);
        return create(CreateResponseResponseSchema, { response });
      } catch (err) {
        done("model_response", ctx, started, err);
        throw err;
      }
    },

    async *streamResponse(req, ctx): AsyncGenerator<StreamResponseResponse> {
      const started = performance.now();
      try {
        const { params, options } = prepare(req, ctx, "StreamResponse");
        const chat = startChatSpan(params, backend.model);
        let ended = false;
        try {
          for await (const event of backend.stream(params, options)) {
            if (chat && event.type === "completed") recordResponse(chat.span, event.response);
            yield eventToProto(event, backend.name);
          }
          ended = true;
          chat?.span.end();
        } catch (err) {
          ended = true;
          if (chat) endSpan(chat.span, err);
          throw err;
        } finally {
          // The caller stopped reading.
          if (!ended) chat?.span.end();
        }
        done("model_stream", ctx, started);
      } catch (err) {
        done("model_stream", ctx, started, err);
        throw err;
      }
    },
  };
}

export function eventToProto(event: ModelEvent, backend: string): StreamResponseResponse {
  const at = (what: string) => `${backend}: upstream event ${event.type}${what}`;
  try {
    switch (event.type) {
      case "created":
        return create(StreamResponseResponseSchema, { event: { case: "created", value: responseFromJson(event.response) } });
      case "item_added":
        return create(StreamResponseResponseSchema, {
          event: { case: "outputItemAdded", value: { outputIndex: event.index, item: itemFromJson(event.item) } },
        });
      case "text_delta":
        return create(StreamResponseResponseSchema, { event: { case: "textDelta", value: { outputIndex: event.index, delta: event.delta } } });
      case "arguments_delta":
        return create(StreamResponseResponseSchema, { event: { case: "argumentsDelta", value: { outputIndex: event.index, delta: event.delta } } });
      case "item_done":
        return create(StreamResponseResponseSchema, {
          event: { case: "outputItemDone", value: { outputIndex: event.index, item: itemFromJson(event.item) } },
        });
      case "completed":
        return create(StreamResponseResponseSchema, { event: { case: "completed", value: responseFromJson(event.response) } });
    }
  } catch (err) {
    throw shapeError(err, at(""));
  }
}

function toProto(json: JsonObject, backend: string): Response {
  try {
    return responseFromJson(json);
  } catch (err) {
    throw shapeError(err, `${backend}: upstream response`);
  }
}

function shapeError(err: unknown, where: string): ConnectError {
  if (err instanceof JsonShapeError) return new ConnectError(`${where} does not fit the Responses schema: ${err.message}`, Code.Internal);
  return ConnectError.from(err);
}
