// Model backends behind an OpenAI-compatible HTTP server: one speaking the
// Responses API natively, one speaking Chat Completions (vLLM-style) with the
// request and answer converted both ways. Both go through an Upstream (pool,
// retries, timeouts, cancellation): streams through the official SDK, whole
// answers by Upstream.postText (the SDK's headers and errors, without its
// per-request cost).
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";
import { isObject, withoutTokens, type GenerateOptions, type ModelBackend, type ModelEvent } from "../openai/backend.js";
import { chatRequestFromParams } from "../openai/chat-request.js";
import { ChatAssembler, responseFromChatCompletion } from "../openai/chat-response.js";
import { Upstream, type Attempt, type UpstreamOptions } from "./upstream.js";

export type UpstreamApi = "responses" | "chat_completions";

export interface UpstreamBackendOptions extends UpstreamOptions {
  /**
   * The backend's model name, sent with every request whatever the request
   * names (as NeMo Gym's model servers do: a task or a client of the HTTP face
   * does not know what the backend calls its model).
   */
  model: string;
  api: UpstreamApi;
  /** Training: ask for prompt/generation token ids and logprobs (Chat Completions backends, vLLM). */
  returnTokenIds: boolean;
  /** Read `<think>...</think>` in Chat Completions text as reasoning. */
  thinkTags: boolean;
}

export function createUpstreamBackend(options: UpstreamBackendOptions): ModelBackend & { upstream: Upstream } {
  const upstream = new Upstream(options);
  return options.api === "responses" ? responsesBackend(upstream, options) : chatBackend(upstream, options);
}

function responsesBackend(up: Upstream, o: UpstreamBackendOptions): ModelBackend & { upstream: Upstream } {
  // RL token fields are ours: a Responses server would reject them on input items.
  const body = (params: JsonObject): JsonObject => {
    const input = Array.isArray(params.input) ? params.input.map((i) => (isObject(i) ? withoutTokens(i) : i)) : params.input;
    const out: JsonObject = { ...params, model: o.model };
    if (input !== undefined) out.input = input;
    delete out.stream;
    delete out.stream_options;
    return out;
  };
  return {
    name: o.name,
    model: o.model,
    upstream: up,
    async create(params, options = {}) {
      const { value } = await up.send(options, async (signal) => {
        // The raw body, not the SDK's parsed object: the SDK adds convenience fields (output_text).
        return parseJson(await up.postText("/responses", body(params), signal), o.name);
      });
      return value;
    },
    async *stream(params, options = {}) {
      const { value: events, attempt } = await up.send(
        options,
        (signal) => up.client.responses.create({ ...body(params), stream: true } as never, { signal }) as unknown as Promise<AsyncIterable<JsonObject>>,
        true,
      );
      let completed = false;
      try {
        for await (const event of events) {
          const e = responsesEvent(event, o.name);
          if (!e) continue;
          yield e;
          if (e.type === "completed") completed = true;
        }
      } catch (err) {
        throw streamFailure(up, err, attempt);
      } finally {
        attempt.release();
      }
      checkStreamEnd(up, attempt, options, completed);
    },
    close: () => up.close(),
  };
}

function chatBackend(up: Upstream, o: UpstreamBackendOptions): ModelBackend & { upstream: Upstream } {
  const body = (params: JsonObject): JsonObject => ({ ...chatRequestFromParams(params, o), model: o.model });
  const assembly = (params: JsonObject) => ({ backend: o.name, thinkTags: o.thinkTags, returnTokenIds: o.returnTokenIds, params });
  return {
    name: o.name,
    model: o.model,
    upstream: up,
    async create(params, options = {}) {
      const request = body(params);
      const { value } = await up.send(options, async (signal) => {
        return parseJson(await up.postText("/chat/completions", request, signal), o.name);
      });
      return responseFromChatCompletion(value, assembly(params));
    },
    async *stream(params, options = {}) {
      const request = { ...body(params), stream: true, stream_options: { include_usage: true } };
      const { value: chunks, attempt } = await up.send(
        options,
        (signal) => up.client.chat.completions.create(request as never, { signal }) as unknown as Promise<AsyncIterable<JsonObject>>,
        true,
      );
      const assembler = new ChatAssembler(assembly(params));
      let finished = false;
      try {
        for await (const chunk of chunks) {
          yield* assembler.chunk(chunk);
          const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
          if (isObject(choice) && typeof choice.finish_reason === "string") finished = true;
        }
      } catch (err) {
        throw streamFailure(up, err, attempt);
      } finally {
        attempt.release();
      }
      checkStreamEnd(up, attempt, options, finished);
      yield* assembler.finish();
    },
    close: () => up.close(),
  };
}

/** One Responses API stream event as a model event; events with nothing for us give undefined. */
function responsesEvent(event: JsonObject, backend: string): ModelEvent | undefined {
  const index = typeof event.output_index === "number" ? event.output_index : 0;
  switch (event.type) {
    case "response.created":
      return isObject(event.response) ? { type: "created", response: event.response } : undefined;
    case "response.output_item.added":
      return isObject(event.item) ? { type: "item_added", index, item: event.item } : undefined;
    case "response.output_text.delta":
      return { type: "text_delta", index, delta: String(event.delta ?? "") };
    case "response.function_call_arguments.delta":
      return { type: "arguments_delta", index, delta: String(event.delta ?? "") };
    case "response.output_item.done":
      return isObject(event.item) ? { type: "item_done", index, item: event.item } : undefined;
    case "response.completed":
    case "response.incomplete":
      return isObject(event.response) ? { type: "completed", response: event.response } : undefined;
    case "response.failed": {
      const error = isObject(event.response) && isObject(event.response.error) ? event.response.error : {};
      throw new ConnectError(`${backend}: upstream failed the response: ${String(error.message ?? "no details")}`, Code.Unavailable);
    }
    case "error":
      throw new ConnectError(`${backend}: upstream reported an error: ${String(event.message ?? "no details")}`, Code.Unavailable);
    default:
      return undefined;
  }
}

/** A stream that broke after it started: not retried (events were already passed on). */
function streamFailure(up: Upstream, err: unknown, attempt: Attempt): ConnectError {
  if (err instanceof ConnectError || err instanceof OpenAI.APIError || attempt.timedOut) return up.failure(err, attempt, 1);
  return new ConnectError(up.redact(`${up.options.name}: the upstream stream broke: ${(err as Error).message ?? String(err)}`), Code.Unavailable);
}

/** The SDK ends a stream quietly when it is aborted: say why it ended, or that it ended too early. */
function checkStreamEnd(up: Upstream, attempt: Attempt, options: GenerateOptions, complete: boolean): void {
  if (options.signal?.aborted) throw up.failure(new OpenAI.APIUserAbortError(), attempt, 1);
  if (attempt.timedOut) throw up.failure(new OpenAI.APIConnectionTimeoutError(), attempt, 1);
  if (!complete) throw new ConnectError(`${up.options.name}: the upstream stream ended before the answer was complete`, Code.Unavailable);
}

/** The body as JSON (a body cut off is a connection failure, retried, in `postText`); a body that is not JSON is not retried. */
function parseJson(text: string, backend: string): JsonObject {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConnectError(`${backend}: upstream answered with a body that is not JSON: ${text.slice(0, 200)}`, Code.Unavailable);
  }
  if (!isObject(json)) throw new ConnectError(`${backend}: upstream answered with JSON that is not an object`, Code.Unavailable);
  return json;
}
