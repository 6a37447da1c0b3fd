// Tool-call mode (NeMo Gym's structured outputs v4): the schema was offered to
// the model as a function tool, and the answer is the arguments of exactly one
// call of that tool, optionally wrapped under `tool_payload_key`.
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { jsonObjectOf } from "../../openai/responses-json.js";
import { pyTruncate } from "../../pycompat/str.js";
import { JSONDecodeError, pyJsonLoads } from "../../pycompat/json-loads.js";
import { pyRepr } from "../../pycompat/repr.js";

export type ToolCallPayload = { ok: true; payload: unknown } | { ok: false; errorType: string; errorMessage: string };

export interface ToolCallExpectation {
  /** The tool that must be called; any tool when null or "". */
  toolName: string | null;
  /** The arguments key holding the payload; the whole arguments when null or "". */
  toolPayloadKey: string | null;
}

/** str() of the response's `error` object as the OpenAI SDK model prints it: code='...' message='...'. */
function errorText(error: unknown): string {
  if (typeof error !== "object" || error === null || Array.isArray(error)) return pyRepr(error);
  return Object.entries(error)
    .map(([k, v]) => `${k}=${pyRepr(v)}`)
    .join(" ");
}

export function toolCallPayload(response: Response, expect: ToolCallExpectation): ToolCallPayload {
  const apiError = jsonObjectOf(response.extraJson).error;
  if (apiError !== undefined && apiError !== null) {
    return { ok: false, errorType: "api_error", errorMessage: pyTruncate(errorText(apiError), 200) };
  }
  const calls = response.output.flatMap((item) => (item.kind.case === "functionCall" ? [item.kind.value] : []));
  if (calls.length === 0) {
    return { ok: false, errorType: "missing_tool_call", errorMessage: "No function_call item found in assistant response" };
  }
  const names = calls.map((c) => c.name).join(", ");
  if (calls.length > 1) {
    return { ok: false, errorType: "multiple_tool_calls", errorMessage: `Expected exactly one function_call, got: ${names}` };
  }
  const call = calls[0]!;
  if (expect.toolName && call.name !== expect.toolName) {
    return { ok: false, errorType: "wrong_tool_name", errorMessage: `Expected tool '${expect.toolName}', got: ${names}` };
  }
  let args: unknown;
  try {
    args = pyJsonLoads(call.arguments);
  } catch (err) {
    if (!(err instanceof JSONDecodeError)) throw err;
    return { ok: false, errorType: "tool_arguments_parse_error", errorMessage: `JSONDecodeError: ${pyTruncate(err.message, 200)}` };
  }
  if (!expect.toolPayloadKey) return { ok: true, payload: args };
  if (typeof args !== "object" || args === null || Array.isArray(args) || !Object.hasOwn(args, expect.toolPayloadKey)) {
    return { ok: false, errorType: "missing_tool_payload_key", errorMessage: `Missing tool payload key: ${expect.toolPayloadKey}` };
  }
  return { ok: true, payload: (args as Record<string, unknown>)[expect.toolPayloadKey] };
}
