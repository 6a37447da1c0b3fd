// What every model backend offers: one generation in the Responses schema,
// whole or as a stream of events. The gRPC ModelService and the OpenAI HTTP
// face both sit on this, in JSON (the Responses API's own shapes), so the
// HTTP face never pays for a trip through proto messages.
import type { JsonObject } from "@bufbuild/protobuf";

export interface GenerateOptions {
  /** Aborts the upstream request (the caller went away or gave up). */
  signal?: AbortSignal;
  /** Time left for the whole generation, retries included (the caller's deadline). */
  timeoutMs?: number;
  /** Correlates logs across services (usually the rollout id). */
  requestId?: string;
}

/** One event of a streamed generation; `output_index` numbers the items of the final response. */
export type ModelEvent =
  /** The response has started (id, model, settings; no output). Always first. */
  | { type: "created"; response: JsonObject }
  /** An item starts; a function call's name and call_id are known from here on. */
  | { type: "item_added"; index: number; item: JsonObject }
  | { type: "text_delta"; index: number; delta: string }
  | { type: "arguments_delta"; index: number; delta: string }
  | { type: "item_done"; index: number; item: JsonObject }
  /** The whole response. Always last. */
  | { type: "completed"; response: JsonObject };

export interface ModelBackend {
  /** Instance name, for logs and error messages. */
  readonly name: string;
  /** The backend's model name: sent upstream with every request, and listed by `GET /v1/models`. */
  readonly model: string;
  /** One generation: a Responses request body in, a Response object out. */
  create(params: JsonObject, options?: GenerateOptions): Promise<JsonObject>;
  /** The same generation as events, `created` first and `completed` last. */
  stream(params: JsonObject, options?: GenerateOptions): AsyncIterable<ModelEvent>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * The events of an already finished response, in the order a live stream
 * would give them (texts and arguments cut into a few deltas). Used by
 * backends that know the whole answer at once (mock, replay).
 */
export function* eventsOfResponse(response: JsonObject, chunkChars = 16): Generator<ModelEvent> {
  const output = Array.isArray(response.output) ? (response.output as JsonObject[]) : [];
  yield { type: "created", response: { ...response, status: "in_progress", output: [], usage: null } };
  for (const [index, item] of output.entries()) {
    yield { type: "item_added", index, item: startedItem(item) };
    if (item.type === "message" && Array.isArray(item.content)) {
      const text = item.content.map((p) => (isObject(p) && p.type === "output_text" ? String(p.text) : "")).join("");
      for (const delta of pieces(text, chunkChars)) yield { type: "text_delta", index, delta };
    } else if (item.type === "function_call") {
      for (const delta of pieces(String(item.arguments ?? ""), chunkChars)) yield { type: "arguments_delta", index, delta };
    }
    yield { type: "item_done", index, item };
  }
  yield { type: "completed", response };
}

/** An item as it looks when it starts: no content, no arguments yet, in progress. */
export function startedItem(item: JsonObject): JsonObject {
  switch (item.type) {
    case "message":
      return { ...withoutTokens(item), content: [], status: "in_progress" };
    case "function_call":
      return { ...withoutTokens(item), arguments: "", status: "in_progress" };
    case "reasoning":
      return { ...withoutTokens(item), summary: [], status: "in_progress" };
    default:
      return item;
  }
}

export const TOKEN_FIELDS = ["prompt_token_ids", "generation_token_ids", "generation_log_probs"] as const;

/** An item without its RL token fields. */
export function withoutTokens(item: JsonObject): JsonObject {
  if (!TOKEN_FIELDS.some((k) => k in item)) return item;
  const copy = { ...item };
  for (const k of TOKEN_FIELDS) delete copy[k];
  return copy;
}

function* pieces(text: string, size: number): Generator<string> {
  // Split on code points, so no delta ends inside a surrogate pair.
  const chars = [...text];
  for (let i = 0; i < chars.length; i += size) yield chars.slice(i, i + size).join("");
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
