// structured_outputs, ported from NeMo Gym: does the model's output follow a
// JSON schema? Text mode parses the answer text as JSON; tool-call mode (v4)
// takes the arguments of the one expected function call. Either way the value
// is validated against the row's schema made strict (all properties required,
// no others). Only schema adherence is scored, never the content.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { defineEnvironment } from "../../resources/environment.js";
import { outputText } from "../../openai/response-text.js";
import { UnsupportedPythonRegexError } from "../../pycompat/regex.js";
import { pyStrip, pyTruncate } from "../../pycompat/str.js";
import { JSONDecodeError, pyJsonLoads } from "../../pycompat/json-loads.js";
import { readStructuredOutputsRow, structuredOutputsTaskSchema, type StructuredOutputsRow } from "./row.js";
import { strictify, UnusableSchemaError, validateAgainstSchema } from "./schema-validation.js";
import { toolCallPayload } from "./tool-call.js";

export interface Grade {
  reward: number;
  /** null, or one of empty_response, schema_error, parse_error, validation_error, api_error, missing_tool_call, multiple_tool_calls, wrong_tool_name, tool_arguments_parse_error, missing_tool_payload_key. */
  errorType: string | null;
  errorMessage: string | null;
}

const pass: Grade = { reward: 1, errorType: null, errorMessage: null };
const fail = (errorType: string, errorMessage: string): Grade => ({ reward: 0, errorType, errorMessage });

/** The schema, strict, or the schema_error NeMo Gym reports for text that is not JSON. */
function strictSchema(schemaStr: string): { schema: unknown } | Grade {
  let schema: unknown;
  try {
    schema = pyJsonLoads(schemaStr);
  } catch (err) {
    if (!(err instanceof JSONDecodeError)) throw err;
    return fail("schema_error", pyTruncate(err.message, 200));
  }
  try {
    strictify(schema);
  } catch (err) {
    if (err instanceof UnusableSchemaError) throw new ConnectError(`structured_outputs: task field "schema_str": ${err.message}`, Code.InvalidArgument);
    throw err;
  }
  return { schema };
}

function validated(value: unknown, schema: unknown): Grade {
  let error: string | null;
  try {
    error = validateAgainstSchema(value, schema);
  } catch (err) {
    if (err instanceof UnsupportedPythonRegexError) throw new ConnectError(`structured_outputs: schema_str: ${err.message}`, Code.Unimplemented);
    throw err;
  }
  if (error === null) return pass;
  // NeMo Gym keeps "<ExceptionType>: " plus the first 200 characters of the message.
  const colon = error.indexOf(": ");
  return fail("validation_error", `${error.slice(0, colon)}: ${pyTruncate(error.slice(colon + 2), 200)}`);
}

/** Text mode: the concatenated output_text of the answer, parsed as JSON. */
export function gradeText(row: StructuredOutputsRow, text: string): Grade {
  if (pyStrip(text) === "") return fail("empty_response", "No assistant response text");
  const strict = strictSchema(row.schemaStr);
  if (!("schema" in strict)) return strict;
  if (row.schemaType !== "json") {
    throw new ConnectError(`structured_outputs: schema_type "${row.schemaType}" is not supported by this port (only "json" text and tool calls)`, Code.Unimplemented);
  }
  let value: unknown;
  try {
    value = pyJsonLoads(text);
  } catch (err) {
    if (!(err instanceof JSONDecodeError)) throw err;
    return fail("parse_error", `JSONDecodeError: ${pyTruncate(err.message, 200)}`);
  }
  return validated(value, strict.schema);
}

/** Tool-call mode: the payload of the expected function call. */
export function gradeToolCall(row: StructuredOutputsRow, response: Response): Grade {
  const call = toolCallPayload(response, { toolName: row.toolName, toolPayloadKey: row.toolPayloadKey });
  if (!call.ok) return fail(call.errorType, call.errorMessage);
  const strict = strictSchema(row.schemaStr);
  if (!("schema" in strict)) return strict;
  return validated(call.payload, strict.schema);
}

const structuredOutputs = defineEnvironment({
  name: "structured_outputs",
  description: "Structured outputs: the answer (JSON text or a tool call's arguments) must validate against the row's JSON schema",
  tools: [],
  taskSchema: structuredOutputsTaskSchema,
  verify: ({ task, response }) => {
    const row = readStructuredOutputsRow(task);
    const grade = row.responseMode === "tool_call" ? gradeToolCall(row, response) : gradeText(row, outputText(response));
    return {
      reward: grade.reward,
      extra: {
        schema_type: row.schemaType,
        response_mode: row.responseMode,
        error_type: grade.errorType,
        error_message: grade.errorMessage,
        // The LLM-judge semantic score needs a judge model; without one NeMo Gym also reports 1.0.
        semantic_reward: 1,
        semantic_results: null,
      },
    };
  },
});

export default structuredOutputs;
