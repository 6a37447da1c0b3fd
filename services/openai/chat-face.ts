// The Chat Completions face of a model instance: a chat request becomes a
// Responses request for the backend, and the backend's Response (or its
// stream of events) becomes a chat completion (or chunks). Reasoning goes out
// as `reasoning_content` (vLLM's field, which the chat bridge reads back),
// and RL token data sits on `choices[0].message` under NeMo Gym's names.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { isObject, TOKEN_FIELDS, type ModelEvent } from "./backend.js";

/** Chat settings the face handles itself (streaming) or that the instance's config decides (token data). */
const FACE_ONLY = new Set(["stream", "stream_options", "logprobs", "top_logprobs", "return_tokens_as_token_ids", "return_token_ids"]);

export function paramsFromChatRequest(body: JsonObject): JsonObject {
  const out: JsonObject = {};
  const text: JsonObject = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === null || v === undefined || FACE_ONLY.has(k)) continue;
    switch (k) {
      case "messages":
        out.input = inputFromMessages(v);
        break;
      case "tools":
        out.tools = responsesTools(v);
        break;
      case "tool_choice":
        out.tool_choice = isObject(v) && v.type === "function" && isObject(v.function) ? { type: "function", name: v.function.name ?? "" } : v;
        break;
      case "max_tokens":
      case "max_completion_tokens":
        out.max_output_tokens = v;
        break;
      case "reasoning_effort":
        out.reasoning = { effort: v };
        break;
      case "response_format":
        if (isObject(v) && v.type === "json_schema" && isObject(v.json_schema)) text.format = { type: "json_schema", ...v.json_schema };
        else if (isObject(v)) text.format = { type: String(v.type ?? "text") };
        break;
      case "verbosity":
        text.verbosity = v;
        break;
      case "n":
        if (v !== 1) throw invalid("n: this server returns one choice; n must be 1");
        break;
      default:
        out[k] = v;
    }
  }
  if (Object.keys(text).length > 0) out.text = text;
  if (out.input === undefined) throw invalid("messages: required (a non-empty array of messages)");
  return out;
}

function inputFromMessages(messages: JsonValue): JsonObject[] {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid("messages: expected a non-empty array of messages");
  return messages.flatMap((m, i): JsonObject[] => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw invalid(`${at}: expected a message object`);
    switch (m.role) {
      case "system":
      case "developer":
      case "user":
        return [{ type: "message", role: m.role, content: responsesContent(m.content, `${at}.content`) }];
      case "assistant":
        return assistantItems(m, at);
      case "tool":
        return [{ type: "function_call_output", call_id: String(m.tool_call_id ?? ""), output: plainText(m.content, `${at}.content`) }];
      default:
        throw invalid(`${at}.role: expected "system", "developer", "user", "assistant" or "tool", got ${JSON.stringify(m.role ?? null)}`);
    }
  });
}

function assistantItems(m: JsonObject, at: string): JsonObject[] {
  const items: JsonObject[] = [];
  const reasoning = m.reasoning_content ?? m.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") items.push({ type: "reasoning", summary: [{ type: "summary_text", text: reasoning }] });
  const text = m.content === null || m.content === undefined ? "" : plainText(m.content, `${at}.content`);
  if (text !== "") items.push({ type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] });
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((tc, j) => {
      const fn = isObject(tc) && isObject(tc.function) ? tc.function : undefined;
      if (!isObject(tc) || !fn) throw invalid(`${at}.tool_calls[${j}]: expected {"id", "type": "function", "function": {"name", "arguments"}}`);
      items.push({ type: "function_call", call_id: String(tc.id ?? ""), name: String(fn.name ?? ""), arguments: String(fn.arguments ?? "") });
    });
  }
  if (TOKEN_FIELDS.every((k) => Array.isArray(m[k])) && items.length > 0) {
    Object.assign(items[items.length - 1]!, Object.fromEntries(TOKEN_FIELDS.map((k) => [k, m[k]!])));
  }
  return items;
}

function responsesContent(content: JsonValue | undefined, at: string): JsonValue {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalid(`${at}: expected a string or an array of content parts`);
  return content.map((p, j): JsonObject => {
    const where = `${at}[${j}]`;
    if (!isObject(p)) throw invalid(`${where}: expected a content part object`);
    switch (p.type) {
      case "text":
        return { type: "input_text", text: String(p.text ?? "") };
      case "image_url": {
        const image = isObject(p.image_url) ? p.image_url : { url: p.image_url ?? "" };
        return { type: "input_image", image_url: image.url ?? "", detail: image.detail ?? "auto" };
      }
      case "input_audio":
        return { type: "input_audio", input_audio: p.input_audio ?? null };
      case "file":
        return { type: "input_file", ...(isObject(p.file) ? p.file : {}) };
      default:
        throw invalid(`${where}: content part type ${JSON.stringify(p.type ?? null)} is not supported`);
    }
  });
}

function plainText(content: JsonValue | undefined, at: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === "string" ? p.text : "")).join("");
  throw invalid(`${at}: expected a string or an array of text parts`);
}

function responsesTools(tools: JsonValue): JsonObject[] {
  if (!Array.isArray(tools)) throw invalid("tools: expected an array");
  return tools.map((t, i) => {
    if (!isObject(t) || t.type !== "function" || !isObject(t.function)) {
      throw invalid(`tools[${i}]: expected {"type": "function", "function": {"name", "parameters"}}`);
    }
    return { type: "function", ...t.function };
  });
}

/** A Response as a chat completion. */
export function chatCompletionFromResponse(response: JsonObject): JsonObject {
  const output = Array.isArray(response.output) ? response.output : [];
  let content = "";
  let refusal = "";
  const reasoning: string[] = [];
  const toolCalls: JsonObject[] = [];
  let tokens: JsonObject | undefined;
  for (const item of output) {
    if (!isObject(item)) continue;
    if (item.type === "message" && Array.isArray(item.content)) {
      for (const p of item.content) {
        if (isObject(p) && p.type === "output_text") content += String(p.text ?? "");
        if (isObject(p) && p.type === "refusal") refusal += String(p.refusal ?? "");
      }
    } else if (item.type === "message" && typeof item.content === "string") {
      content += item.content;
    } else if (item.type === "reasoning") {
      const parts = [...(Array.isArray(item.summary) ? item.summary : []), ...(Array.isArray(item.content) ? item.content : [])];
      for (const p of parts) if (isObject(p) && typeof p.text === "string") reasoning.push(p.text);
    } else if (item.type === "function_call") {
      toolCalls.push({ id: String(item.call_id ?? ""), type: "function", function: { name: String(item.name ?? ""), arguments: String(item.arguments ?? "") } });
    }
    if (TOKEN_FIELDS.every((k) => Array.isArray(item[k]))) tokens = Object.fromEntries(TOKEN_FIELDS.map((k) => [k, item[k]!]));
  }
  const message: JsonObject = { role: "assistant", content: content === "" && (toolCalls.length > 0 || refusal !== "") ? null : content };
  if (reasoning.length > 0) message.reasoning_content = reasoning.join("\n");
  if (refusal !== "") message.refusal = refusal;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (tokens) Object.assign(message, tokens);

  const completion: JsonObject = {
    id: String(response.id ?? ""),
    object: "chat.completion",
    created: Math.floor(typeof response.created_at === "number" ? response.created_at : Date.now() / 1000),
    model: String(response.model ?? ""),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(response, toolCalls.length > 0) }],
  };
  if (isObject(response.usage)) completion.usage = chatUsage(response.usage);
  return completion;
}

function finishReason(response: JsonObject, calledTools: boolean): string {
  const reason = isObject(response.incomplete_details) ? response.incomplete_details.reason : undefined;
  if (response.status === "incomplete") return reason === "content_filter" ? "content_filter" : "length";
  return calledTools ? "tool_calls" : "stop";
}

function chatUsage(u: JsonObject): JsonObject {
  const n = (v: JsonValue | undefined) => (typeof v === "number" ? v : 0);
  return {
    prompt_tokens: n(u.input_tokens),
    completion_tokens: n(u.output_tokens),
    total_tokens: n(u.total_tokens),
    prompt_tokens_details: { cached_tokens: isObject(u.input_tokens_details) ? n(u.input_tokens_details.cached_tokens) : 0 },
    completion_tokens_details: { reasoning_tokens: isObject(u.output_tokens_details) ? n(u.output_tokens_details.reasoning_tokens) : 0 },
  };
}

/** Model events as `chat.completion.chunk` objects, as they happen. */
export class ChatChunkEncoder {
  private head: { id: string; created: number; model: string } | undefined;
  /** Output index of a function call -> its index among the tool calls. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly includeUsage: boolean) {}

  encode(event: ModelEvent): JsonObject[] {
    const out: JsonObject[] = [];
    if (!this.head) {
      const r = event.type === "created" || event.type === "completed" ? event.response : {};
      this.head = {
        id: String(r.id ?? ""),
        created: Math.floor(typeof r.created_at === "number" ? r.created_at : Date.now() / 1000),
        model: String(r.model ?? ""),
      };
      out.push(this.chunk({ role: "assistant", content: "" }));
    }
    switch (event.type) {
      case "item_added":
        if (event.item.type === "function_call") {
          const index = this.toolIndex.size;
          this.toolIndex.set(event.index, index);
          const { call_id, name } = event.item;
          out.push(this.chunk({ tool_calls: [{ index, id: String(call_id ?? ""), type: "function", function: { name: String(name ?? ""), arguments: "" } }] }));
        }
        break;
      case "text_delta":
        out.push(this.chunk({ content: event.delta }));
        break;
      case "arguments_delta": {
        const index = this.toolIndex.get(event.index);
        if (index !== undefined) out.push(this.chunk({ tool_calls: [{ index, function: { arguments: event.delta } }] }));
        break;
      }
      case "item_done":
        if (event.item.type === "reasoning") {
          const text = (chatCompletionFromResponse({ output: [event.item] }).choices as JsonObject[])[0]!;
          const reasoning = (text.message as JsonObject).reasoning_content;
          if (typeof reasoning === "string") out.push(this.chunk({ reasoning_content: reasoning }));
        }
        break;
      case "completed": {
        const completion = chatCompletionFromResponse(event.response);
        const choice = (completion.choices as JsonObject[])[0]!;
        out.push(this.chunk({}, String(choice.finish_reason)));
        if (this.includeUsage && completion.usage) out.push({ ...this.base(), choices: [], usage: completion.usage });
        break;
      }
      default:
        break;
    }
    return out;
  }

  private base(): JsonObject {
    return { id: this.head!.id, object: "chat.completion.chunk", created: this.head!.created, model: this.head!.model };
  }

  private chunk(delta: JsonObject, finishReason: string | null = null): JsonObject {
    return { ...this.base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
  }
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
