// STAND-IN: the mock model's tokens, the same on both APIs. Its "tokenizer"
// is the UTF-8 bytes of the text; its "chat template" renders the tools, then
// each message as `<|role|>` and its text on a line, and ends with
// `<|assistant|>`. An assistant message renders as exactly what the mock
// generated for it (reasoning, text, then each tool call's name and
// arguments), or as its `generation_token_ids` when it carries them (as a
// patched vLLM keeps them), so each turn's prompt starts with the previous
// turn's prompt followed by its generated tokens: the prefix property
// training code relies on. Each logprob is a deterministic multiple of 1/64
// (exact in float32), so tests can check token data end to end.
//
// The Responses API has no token-id extension: the mock answers a Responses
// request that has `return_token_ids: true` (what a model instance with
// `api: responses` and `return_token_ids: true` sends it) with NeMo Gym's
// flat token fields on the last output item. Its prompt is the request as a
// Chat Completions request would render (openai/chat-request.ts: reasoning
// back as `<think>` text), its generation the output items as one assistant
// message in that same form.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { isObject, withoutTokens } from "../openai/backend.js";
import { chatRequestFromParams } from "../openai/chat-request.js";

/** The mock's tokenizer: UTF-8 bytes. */
export function tokenize(text: string): number[] {
  return [...Buffer.from(text, "utf8")];
}

/** The prompt of a Chat Completions request as token ids (see the file's comment). */
export function promptTokenIds(request: JsonObject): number[] {
  const ids: number[] = [];
  const add = (text: string) => {
    for (const id of tokenize(text)) ids.push(id);
  };
  const messages = (Array.isArray(request.messages) ? request.messages : []).filter(isObject);
  if (Array.isArray(request.tools) && request.tools.length > 0) add(`<|tools|>${JSON.stringify(request.tools)}\n`);
  for (const m of messages) {
    add(`<|${String(m.role)}|>`);
    const kept = m.role === "assistant" ? tokenIds(m.generation_token_ids) : undefined;
    if (kept) for (const id of kept) ids.push(id);
    else if (m.role === "assistant") add(generatedText(m));
    else if (m.role === "tool") add(`${typeof m.tool_call_id === "string" && m.tool_call_id !== "" ? `[${m.tool_call_id}] ` : ""}${contentText(m.content)}`);
    else add(contentText(m.content));
    add("\n");
  }
  add("<|assistant|>");
  return ids;
}

/** The prompt as text (its token ids decoded). */
export function renderPrompt(request: JsonObject): string {
  return Buffer.from(promptTokenIds(request)).toString("utf8");
}

/** What the mock generated for an assistant message: reasoning, text, then each tool call's name and arguments. */
export function generatedText(m: JsonObject): string {
  const reasoning = m.reasoning_content ?? m.reasoning;
  let text = (typeof reasoning === "string" ? reasoning : "") + contentText(m.content);
  for (const call of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
    const fn = isObject(call) && isObject(call.function) ? call.function : {};
    text += String(fn.name ?? "") + String(fn.arguments ?? "");
  }
  return text;
}

/** The logprob the mock reports for a token at a position: -(1..64)/64. */
export function mockLogprob(token: number, position: number): number {
  return -(((token * 7 + position) % 64) + 1) / 64;
}

/**
 * A Responses answer with token data (`return_token_ids: true`): the flat
 * fields on its last output item, usage counted in those tokens. Throws a
 * ConnectError (INVALID_ARGUMENT) when the conversation has items the
 * mock's template cannot render.
 */
export function withResponsesTokens(request: JsonObject, response: JsonObject): JsonObject {
  const output = (Array.isArray(response.output) ? response.output : []).filter(isObject).map(withoutTokens);
  if (output.length === 0) return response;
  const tools = (Array.isArray(request.tools) ? request.tools : []).filter((t) => isObject(t) && t.type === "function");
  const prompt = promptTokenIds(chatRequestFromParams({ instructions: request.instructions ?? null, input: request.input ?? null, tools }, { returnTokenIds: true }));
  const turn = (chatRequestFromParams({ input: output }, { returnTokenIds: false }).messages as JsonObject[]).filter((m) => m.role === "assistant");
  const generation = tokenize(turn.map(generatedText).join(""));
  output[output.length - 1] = {
    ...output.at(-1)!,
    prompt_token_ids: prompt,
    generation_token_ids: generation,
    generation_log_probs: generation.map((id, i) => mockLogprob(id, i)),
  };
  const usage = isObject(response.usage) ? response.usage : {};
  return {
    ...response,
    output,
    usage: { ...usage, input_tokens: prompt.length, output_tokens: generation.length, total_tokens: prompt.length + generation.length },
  };
}

function tokenIds(v: JsonValue | undefined): number[] | undefined {
  return Array.isArray(v) && v.every((id) => typeof id === "number") ? (v as number[]) : undefined;
}

function contentText(content: JsonValue | undefined): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === "string" ? p.text : "")).join("");
  return "";
}
