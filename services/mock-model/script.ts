// STAND-IN: the mock model's script. No model weights run here, so answers
// are scripted, not generated: while the request offers function tools and
// fewer tool turns than the tool_turns knob (default 1) have come back, call
// the first tool (every tool, with the parallel knob) with arguments made up
// from its JSON schema; otherwise answer with text that quotes the last tool
// output. The reasoning knob adds
// a short reasoning text. Seeded draws per conversation (random.ts) may skip
// the tools (skip_tool_rate) or make the text answer wrong
// (wrong_answer_rate: WRONG_ANSWER instead of what the tool said). One
// script, two APIs (Responses, Chat Completions).
import { randomUUID } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { isObject } from "../openai/backend.js";
import { responseSettings } from "../openai/response-settings.js";
import type { MockKnobs } from "./faults.js";
import { requestSeed, scriptDraws, WRONG_ANSWER } from "./random.js";

export const MOCK_MODEL_NAME = "mock";

/** What the script decided, independent of the API. */
export interface ScriptedTurn {
  reasoning?: string;
  /** null when the turn only calls tools. */
  text: string | null;
  toolCalls: { callId: string; name: string; arguments: string }[];
}

interface Conversation {
  tools: JsonObject[];
  /** Tool turns answered so far (runs of consecutive tool outputs). */
  toolTurnsDone: number;
  lastToolOutput: string | undefined;
  lastUserText: string;
  toolChoice: JsonValue | undefined;
  parallelAllowed: boolean;
  /** What the policy was given (system, developer and user messages as `role: text`): the draws' conversation. */
  given: string[];
  /** The request's seed, if it carries one. */
  seed: number | string | undefined;
}

/** The roles of what the policy is given (the draws' conversation). */
const GIVEN = new Set(["system", "developer", "user"]);

export function scriptedTurn(c: Conversation, knobs: MockKnobs): ScriptedTurn {
  const draws = scriptDraws(c.seed ?? knobs.seed, c.given, knobs);
  const chosen = knobs.parallelToolCalls && c.parallelAllowed ? c.tools : c.tools.slice(0, 1);
  // A tool_choice that forces a call ("required", a named function) is obeyed whatever the draw.
  const forced = c.toolChoice === "required" || isObject(c.toolChoice);
  const callTools = chosen.length > 0 && c.toolTurnsDone < knobs.toolTurns && c.toolChoice !== "none" && (forced || !draws.skipTool);
  const reasoning = knobs.reasoning === "none" ? undefined : `The user said: ${c.lastUserText.slice(0, 80)}. I will ${callTools ? "call a tool" : "answer"}.`;
  if (callTools) {
    return {
      reasoning,
      text: null,
      toolCalls: chosen.map((t) => ({ callId: `call_${uid()}`, name: String(t.name ?? ""), arguments: JSON.stringify(exampleArguments(t.parameters)) })),
    };
  }
  const right = c.lastToolOutput !== undefined ? `Here is what the tool said: ${c.lastToolOutput}` : "Hello from the mock model.";
  const text = draws.wrongAnswer ? WRONG_ANSWER : right;
  return { reasoning, text, toolCalls: [] };
}

/** The scripted answer to one Responses request, as a Response object. */
export function scriptedResponse(request: JsonObject, knobs: MockKnobs): JsonObject {
  const input: JsonValue[] = typeof request.input === "string" ? [{ role: "user", content: request.input }] : Array.isArray(request.input) ? request.input : [];
  const items: JsonObject[] = input.filter(isObject);
  const outputs = items.filter((i) => i.type === "function_call_output");
  const users = items.filter((i) => i.role === "user");
  const given = items.filter((i) => (i.type ?? "message") === "message" && GIVEN.has(String(i.role))).map((i) => `${String(i.role)}: ${textOf(i.content)}`);
  if (typeof request.instructions === "string" && request.instructions !== "") given.unshift(`system: ${request.instructions}`);
  const turn = scriptedTurn(
    {
      tools: (Array.isArray(request.tools) ? request.tools : []).filter((t): t is JsonObject => isObject(t) && t.type === "function"),
      toolTurnsDone: runs(items, (i) => i.type === "function_call_output"),
      lastToolOutput: outputs.length > 0 ? String(outputs.at(-1)!.output) : undefined,
      lastUserText: users.length > 0 ? textOf(users.at(-1)!.content) : "",
      toolChoice: request.tool_choice ?? undefined,
      parallelAllowed: request.parallel_tool_calls !== false,
      given,
      seed: requestSeed(request),
    },
    knobs,
  );

  const output: JsonObject[] = [];
  if (turn.reasoning !== undefined) {
    output.push({ type: "reasoning", id: `rs_${uid()}`, summary: [{ type: "summary_text", text: turn.reasoning }], status: "completed" });
  }
  for (const call of turn.toolCalls) {
    output.push({ type: "function_call", id: `fc_${uid()}`, call_id: call.callId, name: call.name, arguments: call.arguments, status: "completed" });
  }
  if (turn.text !== null) {
    output.push({
      type: "message",
      id: `msg_${uid()}`,
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: turn.text, annotations: [] }],
    });
  }
  const inputTokens = JSON.stringify(input).length >> 2;
  const outputTokens = JSON.stringify(output).length >> 2;
  return {
    id: `resp_${uid()}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model: typeof request.model === "string" ? request.model : MOCK_MODEL_NAME,
    status: "completed",
    output,
    ...responseSettings(request),
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
  };
}

/** The script's decision for one Chat Completions request. */
export function scriptedChatTurn(request: JsonObject, knobs: MockKnobs): ScriptedTurn {
  const messages = (Array.isArray(request.messages) ? request.messages : []).filter(isObject);
  const toolMessages = messages.filter((m) => m.role === "tool");
  const users = messages.filter((m) => m.role === "user");
  const tools = (Array.isArray(request.tools) ? request.tools : []).flatMap((t) =>
    isObject(t) && t.type === "function" && isObject(t.function) ? [t.function] : [],
  );
  return scriptedTurn(
    {
      tools,
      toolTurnsDone: runs(messages, (m) => m.role === "tool"),
      lastToolOutput: toolMessages.length > 0 ? textOf(toolMessages.at(-1)!.content) : undefined,
      lastUserText: users.length > 0 ? textOf(users.at(-1)!.content) : "",
      toolChoice: request.tool_choice ?? undefined,
      parallelAllowed: request.parallel_tool_calls !== false,
      given: messages.filter((m) => GIVEN.has(String(m.role))).map((m) => `${String(m.role)}: ${textOf(m.content)}`),
      seed: requestSeed(request),
    },
    knobs,
  );
}

/** Made-up arguments that fit a JSON schema's required properties. */
export function exampleArguments(schema: JsonValue | undefined): JsonObject {
  const args: JsonObject = {};
  if (!isObject(schema) || !isObject(schema.properties)) return args;
  const required = Array.isArray(schema.required) ? schema.required.map(String) : Object.keys(schema.properties);
  for (const name of required) {
    const prop = schema.properties[name];
    args[name] = exampleValue(name, isObject(prop) ? prop : {});
  }
  return args;
}

function exampleValue(name: string, prop: JsonObject): JsonValue {
  if (Array.isArray(prop.enum) && prop.enum.length > 0) return prop.enum[0]!;
  switch (prop.type) {
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return exampleArguments(prop);
    default:
      return /city/i.test(name) ? "San Francisco" : `example ${name}`;
  }
}

/** How many runs of consecutive matching entries a list has. */
function runs(list: JsonObject[], match: (o: JsonObject) => boolean): number {
  let n = 0;
  list.forEach((o, i) => {
    if (match(o) && (i === 0 || !match(list[i - 1]!))) n++;
  });
  return n;
}

function textOf(content: JsonValue | undefined): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === "string" ? p.text : "")).join("");
  return "";
}

function uid(): string {
  return randomUUID().replaceAll("-", "");
}
