// STAND-IN: how the mock model writes a turn as a Chat Completions answer,
// whole or as chunks, including vLLM's extensions for RL when asked
// (`logprobs` with `return_tokens_as_token_ids`, `return_token_ids`), with
// the mock's tokens (tokens.ts: UTF-8 bytes, a prompt each turn's prompt
// extends, logprobs that are multiples of 1/64).
import { randomUUID } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { isObject } from "../openai/backend.js";
import type { ScriptedTurn } from "./script.js";
import { mockLogprob, promptTokenIds, tokenize } from "./tokens.js";

export { mockLogprob, renderPrompt, tokenize } from "./tokens.js";

const CHUNK_CHARS = 16;

interface Piece {
  delta: JsonObject;
  /** The generated text this piece stands for (what its tokens encode). */
  text: string;
}

export interface ChatAnswerOptions {
  /** `<think>` text in the content instead of a `reasoning_content` field. */
  thinkTags: boolean;
  /** The model name to answer with. */
  model: string;
  /** Honour vLLM's token-id extensions. */
  tokenIds: boolean;
}

/** The answer to a chat request: a whole completion, or its chunks. */
export function chatAnswer(request: JsonObject, turn: ScriptedTurn, options: ChatAnswerOptions): { completion: JsonObject; chunks: JsonObject[] } {
  const id = `chatcmpl-${randomUUID().replaceAll("-", "")}`;
  const created = Math.floor(Date.now() / 1000);
  const model = options.model;
  const promptIds = promptTokenIds(request);

  // Cut the pieces at max_tokens, as a real server stops generating.
  const limit = typeof request.max_tokens === "number" ? request.max_tokens : typeof request.max_completion_tokens === "number" ? request.max_completion_tokens : Infinity;
  const pieces: { piece: Piece; ids: number[] }[] = [];
  let used = 0;
  let truncated = false;
  for (const piece of turnPieces(turn, options.thinkTags)) {
    const ids = tokenize(piece.text);
    if (used + ids.length > limit) {
      const keep = ids.slice(0, limit - used);
      if (keep.length > 0) pieces.push({ piece: cutPiece(piece, Buffer.from(keep).toString("utf8")), ids: keep });
      truncated = true;
      break;
    }
    used += ids.length;
    pieces.push({ piece, ids });
  }
  const finishReason = truncated ? "length" : turn.toolCalls.length > 0 ? "tool_calls" : "stop";
  const genIds = pieces.flatMap((p) => p.ids);
  const usage = { prompt_tokens: promptIds.length, completion_tokens: genIds.length, total_tokens: promptIds.length + genIds.length };

  const wantIds = options.tokenIds && request.return_token_ids === true;
  const wantLogprobs = request.logprobs === true;
  const asIds = options.tokenIds && request.return_tokens_as_token_ids === true;
  const tokenFields = (ids: number[], offset: number): JsonObject => {
    const out: JsonObject = {};
    if (wantLogprobs) out.logprobs = { content: ids.map((t, i) => logprobEntry(t, offset + i, asIds)) };
    if (wantIds) out.token_ids = ids;
    return out;
  };

  // Whole.
  const message = mergedMessage(pieces.map((p) => p.piece));
  const completion: JsonObject = {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason, ...tokenFields(genIds, 0) }],
    usage,
  };
  if (wantIds) completion.prompt_token_ids = promptIds;

  // Chunks: a role chunk (with the prompt's ids, as vLLM sends them), one per piece, the finish, the usage.
  const base = { id, object: "chat.completion.chunk", created, model };
  const chunks: JsonObject[] = [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }], ...(wantIds ? { prompt_token_ids: promptIds } : {}) }];
  let offset = 0;
  for (const { piece, ids } of pieces) {
    chunks.push({ ...base, choices: [{ index: 0, delta: piece.delta, logprobs: null, finish_reason: null, ...tokenFields(ids, offset) }] });
    offset += ids.length;
  }
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }] });
  const streamOptions = request.stream_options;
  if (isObject(streamOptions) && streamOptions.include_usage === true) chunks.push({ ...base, choices: [], usage });
  return { completion, chunks };
}

/** A turn as stream deltas: reasoning, text, then each tool call (name first, then its arguments). */
function turnPieces(turn: ScriptedTurn, thinkTags: boolean): Piece[] {
  const pieces: Piece[] = [];
  let content = turn.text ?? "";
  if (turn.reasoning !== undefined) {
    if (thinkTags) content = `<think>${turn.reasoning}</think>${content}`;
    else for (const part of cut(turn.reasoning)) pieces.push({ delta: { reasoning_content: part }, text: part });
  }
  for (const part of cut(content)) pieces.push({ delta: { content: part }, text: part });
  turn.toolCalls.forEach((call, index) => {
    pieces.push({ delta: { tool_calls: [{ index, id: call.callId, type: "function", function: { name: call.name, arguments: "" } }] }, text: call.name });
    for (const part of cut(call.arguments)) pieces.push({ delta: { tool_calls: [{ index, function: { arguments: part } }] }, text: part });
  });
  return pieces;
}

/** The piece with its text replaced by a shorter one (a cut at max_tokens). */
function cutPiece(piece: Piece, text: string): Piece {
  const d = piece.delta;
  if (typeof d.content === "string") return { delta: { content: text }, text };
  if (typeof d.reasoning_content === "string") return { delta: { reasoning_content: text }, text };
  const call = (d.tool_calls as JsonObject[])[0]!;
  const fn = call.function as JsonObject;
  return { delta: { tool_calls: [{ ...call, function: { ...fn, ...(fn.arguments ? { arguments: text } : { name: text }) } }] }, text };
}

function mergedMessage(pieces: Piece[]): JsonObject {
  let content = "";
  let reasoning = "";
  const calls: JsonObject[] = [];
  for (const { delta } of pieces) {
    if (typeof delta.content === "string") content += delta.content;
    if (typeof delta.reasoning_content === "string") reasoning += delta.reasoning_content;
    for (const tc of (delta.tool_calls as JsonObject[] | undefined) ?? []) {
      const fn = tc.function as JsonObject;
      const i = tc.index as number;
      calls[i] ??= { id: tc.id ?? "", type: "function", function: { name: "", arguments: "" } };
      const target = calls[i]!.function as JsonObject;
      if (typeof fn.name === "string") target.name = String(target.name) + fn.name;
      if (typeof fn.arguments === "string") target.arguments = String(target.arguments) + fn.arguments;
    }
  }
  const message: JsonObject = { role: "assistant", content: content === "" && calls.length > 0 ? null : content };
  if (reasoning !== "") message.reasoning_content = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

/** A chat completion's message as a turn (used to stream recorded answers). */
export function turnOfCompletion(completion: JsonObject): ScriptedTurn {
  const choice = (completion.choices as JsonObject[])[0]!;
  const m = choice.message as JsonObject;
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls.filter(isObject) : [];
  return {
    reasoning: typeof m.reasoning_content === "string" ? m.reasoning_content : undefined,
    text: typeof m.content === "string" ? m.content : null,
    toolCalls: calls.map((tc) => {
      const fn = (tc.function ?? {}) as JsonObject;
      return { callId: String(tc.id ?? ""), name: String(fn.name ?? ""), arguments: String(fn.arguments ?? "") };
    }),
  };
}

function logprobEntry(token: number, position: number, asIds: boolean): JsonObject {
  return { token: asIds ? `token_id:${token}` : String.fromCharCode(token), logprob: mockLogprob(token, position), bytes: [token], top_logprobs: [] };
}

function cut(text: string): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += CHUNK_CHARS) out.push(chars.slice(i, i + CHUNK_CHARS).join(""));
  return out;
}
