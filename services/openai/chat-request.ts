// A Responses API request as a Chat Completions request, for backends that
// only speak Chat Completions (vLLM, SGLang...). Conversation items become
// messages (the model items of one turn merge into one assistant message;
// reasoning goes back as `<think>` text, as NeMo Gym does), function tools and
// tool_choice change shape, max_output_tokens becomes max_tokens, and every
// other field passes through untouched. `null` means "not set" and is left
// out. Fields that only mean something to a Responses server are dropped;
// ones that need server-side state are refused.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { isObject, TOKEN_FIELDS } from "./backend.js";
import { wrapThink } from "./think-tags.js";

export interface ChatRequestOptions {
  /**
   * Training: ask vLLM for token ids and logprobs (its Chat Completions
   * extensions), and send each earlier assistant turn's token data back on
   * its message, as NeMo Gym does (a patched vLLM uses them to keep the
   * prompt's tokens exactly as generated).
   */
  returnTokenIds: boolean;
}

/** Responses-only settings with no Chat Completions meaning. */
const DROPPED = new Set(["include", "store", "truncation", "background", "max_tool_calls", "stream", "stream_options", "prompt_cache_retention"]);
/** Settings that need a server keeping conversations. */
const STATEFUL = new Set(["previous_response_id", "conversation", "prompt"]);

/** The vLLM request fields that return token ids and logprobs. */
export const TOKEN_REQUEST: JsonObject = { logprobs: true, top_logprobs: 0, return_tokens_as_token_ids: true, return_token_ids: true };

export function chatRequestFromParams(params: JsonObject, options: ChatRequestOptions): JsonObject {
  const out: JsonObject = { messages: chatMessages(params, options) };
  let hasTools = false;
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || k === "input" || k === "instructions") continue;
    if (STATEFUL.has(k)) {
      throw invalid(`${k}: needs a backend that keeps conversations, but this model instance speaks Chat Completions (api: responses can)`);
    }
    if (DROPPED.has(k)) continue;
    switch (k) {
      case "tools": {
        const tools = chatTools(v);
        if (tools.length > 0) {
          out.tools = tools;
          hasTools = true;
        }
        break;
      }
      case "tool_choice":
        out.tool_choice = chatToolChoice(v);
        break;
      case "max_output_tokens":
        out.max_tokens = v;
        break;
      case "reasoning":
        if (isObject(v) && v.effort !== null && v.effort !== undefined) out.reasoning_effort = v.effort;
        break;
      case "text":
        textSettings(v, out);
        break;
      default:
        out[k] = v;
    }
  }
  if (!hasTools) {
    // Without tools, Chat Completions servers reject tool settings; "auto" and "none" mean nothing then.
    const choice = out.tool_choice;
    if (choice !== undefined && choice !== "auto" && choice !== "none") {
      throw invalid(`tool_choice: ${JSON.stringify(choice)} needs at least one tool`);
    }
    delete out.tool_choice;
    delete out.parallel_tool_calls;
  }
  if (options.returnTokenIds) Object.assign(out, TOKEN_REQUEST);
  return out;
}

/** One assistant turn being gathered: text (reasoning in tags first), tool calls, token data. */
interface Turn {
  content: string;
  toolCalls: JsonObject[];
  tokens?: JsonObject;
}

function chatMessages(params: JsonObject, options: ChatRequestOptions): JsonObject[] {
  const messages: JsonObject[] = [];
  if (typeof params.instructions === "string" && params.instructions !== "") {
    messages.push({ role: "system", content: params.instructions });
  }
  const input = params.input;
  if (typeof input === "string") {
    messages.push({ role: "user", content: input });
    return messages;
  }
  if (input === undefined || input === null) return messages;
  if (!Array.isArray(input)) throw invalid("input: must be a string or an array of items");

  let turn: Turn | undefined;
  const open = (): Turn => (turn ??= { content: "", toolCalls: [] });
  const flush = () => {
    if (turn && (turn.content !== "" || turn.toolCalls.length > 0)) {
      const message: JsonObject = { role: "assistant", content: turn.content === "" ? null : turn.content };
      if (turn.toolCalls.length > 0) message.tool_calls = turn.toolCalls;
      if (turn.tokens) Object.assign(message, turn.tokens);
      messages.push(message);
    }
    turn = undefined;
  };

  input.forEach((item, i) => {
    const at = `input[${i}]`;
    if (!isObject(item)) throw invalid(`${at}: expected an item object`);
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message":
        if (item.role === "assistant") {
          open().content += assistantText(item.content, at);
        } else {
          flush();
          if (typeof item.role !== "string") throw invalid(`${at}.role: expected "user", "system" or "developer"`);
          messages.push({ role: item.role, content: chatContent(item.content, `${at}.content`) });
        }
        break;
      case "reasoning":
        open().content += wrapThink(reasoningTexts(item));
        break;
      case "function_call":
        open().toolCalls.push({
          id: String(item.call_id ?? ""),
          type: "function",
          function: { name: String(item.name ?? ""), arguments: String(item.arguments ?? "") },
        });
        break;
      case "function_call_output":
        flush();
        messages.push({ role: "tool", tool_call_id: String(item.call_id ?? ""), content: toolOutput(item.output, `${at}.output`) });
        break;
      default:
        throw invalid(`${at}: item type ${JSON.stringify(type ?? null)} cannot be sent to a Chat Completions backend`);
    }
    if (options.returnTokenIds && turn && TOKEN_FIELDS.every((k) => Array.isArray(item[k]))) {
      turn.tokens = Object.fromEntries(TOKEN_FIELDS.map((k) => [k, item[k]!]));
    }
  });
  flush();
  return messages;
}

/** User/system/developer content: a string stays a string; parts change shape. */
function chatContent(content: JsonValue | undefined, at: string): JsonValue {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalid(`${at}: expected a string or an array of content parts`);
  return content.map((part, i): JsonObject => {
    const where = `${at}[${i}]`;
    if (!isObject(part)) throw invalid(`${where}: expected a content part object`);
    switch (part.type) {
      case "input_text":
      case "output_text":
        return { type: "text", text: String(part.text ?? "") };
      case "input_image": {
        if (typeof part.image_url !== "string") throw invalid(`${where}: only images given by image_url can be sent to a Chat Completions backend`);
        const image: JsonObject = { url: part.image_url };
        if (typeof part.detail === "string") image.detail = part.detail;
        return { type: "image_url", image_url: image };
      }
      case "input_file": {
        const file: JsonObject = {};
        for (const k of ["file_data", "file_id", "filename"]) if (typeof part[k] === "string") file[k] = part[k];
        return { type: "file", file };
      }
      case "input_audio":
        return { type: "input_audio", input_audio: part.input_audio ?? null };
      default:
        throw invalid(`${where}: content part type ${JSON.stringify(part.type ?? null)} cannot be sent to a Chat Completions backend`);
    }
  });
}

function assistantText(content: JsonValue | undefined, at: string): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalid(`${at}.content: expected a string or an array of content parts`);
  return content
    .map((p) => (isObject(p) ? (typeof p.text === "string" ? p.text : typeof p.refusal === "string" ? p.refusal : "") : ""))
    .join("");
}

function reasoningTexts(item: JsonObject): string[] {
  const texts = (list: JsonValue | undefined) =>
    Array.isArray(list) ? list.flatMap((p) => (isObject(p) && typeof p.text === "string" ? [p.text] : [])) : [];
  const summary = texts(item.summary);
  return summary.length > 0 ? summary : texts(item.content);
}

function toolOutput(output: JsonValue | undefined, at: string): JsonValue {
  if (typeof output === "string") return output;
  if (Array.isArray(output)) {
    return output.map((p, i) => {
      if (!isObject(p) || typeof p.text !== "string") throw invalid(`${at}[${i}]: only text parts can be sent to a Chat Completions backend`);
      return { type: "text", text: p.text };
    });
  }
  throw invalid(`${at}: expected a string`);
}

function chatTools(tools: JsonValue): JsonObject[] {
  if (!Array.isArray(tools)) throw invalid("tools: expected an array");
  return tools.map((t, i) => {
    if (!isObject(t) || t.type !== "function") {
      const type = isObject(t) ? JSON.stringify(t.type ?? null) : "(not an object)";
      throw invalid(`tools[${i}]: tool type ${type} cannot be sent to a Chat Completions backend (function tools only)`);
    }
    const fn: JsonObject = { name: String(t.name ?? "") };
    for (const k of ["description", "parameters", "strict"]) {
      if (t[k] !== null && t[k] !== undefined) fn[k] = t[k];
    }
    return { type: "function", function: fn };
  });
}

function chatToolChoice(choice: JsonValue): JsonValue {
  if (isObject(choice) && choice.type === "function" && typeof choice.name === "string") {
    return { type: "function", function: { name: choice.name } };
  }
  return choice;
}

/** `text.format` becomes `response_format`; `text.verbosity` becomes `verbosity`. */
function textSettings(text: JsonValue, out: JsonObject): void {
  if (!isObject(text)) return;
  const format = text.format;
  if (isObject(format) && format.type === "json_schema") {
    const schema: JsonObject = {};
    for (const [k, v] of Object.entries(format)) if (k !== "type" && v !== null) schema[k] = v;
    out.response_format = { type: "json_schema", json_schema: schema };
  } else if (isObject(format) && format.type === "json_object") {
    out.response_format = { type: "json_object" };
  }
  if (text.verbosity !== null && text.verbosity !== undefined) out.verbosity = text.verbosity;
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
