// structured_outputs, ported from NeMo Gym 0.7.0: does the model's output
// follow a JSON schema? Text mode parses the answer as the row's schema_type
// (JSON, YAML, XML, TOML or CSV, each as NeMo Gym's Python library reads it);
// tool-call mode (v4) takes the arguments of the one expected function call.
// Either way the value is validated against the row's schema made strict (all
// properties required, no others). Only schema adherence is scored.
import { Code, ConnectError } from "@connectrpc/connect";
import { z } from "zod";
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { defineEnvironment } from "../../resources/environment.js";
import { outputText } from "../../openai/response-text.js";
import { UnsupportedPythonRegexError } from "../../pycompat/regex.js";
import { pyStrip, pyTruncate } from "../../pycompat/str.js";
import { JSONDecodeError, pyJsonLoads } from "../../pycompat/json-loads.js";
import { coerceCsv, coerceXml } from "./coerce.js";
import { parseAnswer } from "./formats.js";
import { PyException } from "./py-error.js";
import { readStructuredOutputsRow, structuredOutputsTaskSchema, type StructuredOutputsRow } from "./row.js";
import { validateAgainstSchema } from "./schema-validation.js";
import { strictify, UnusableSchemaError } from "./strictify.js";
import { toolCallPayload } from "./tool-call.js";

/** NeMo Gym's server config (StructuredOutputsResourcesServerConfig). */
export const structuredOutputsSettings = z.strictObject({
  /** Convert XML text to the schema's integer/number/boolean types before validating (NeMo Gym's default: on). */
  xml_coerce_types: z.boolean().default(true),
});
export type StructuredOutputsSettings = z.infer<typeof structuredOutputsSettings>;

export interface Grade {
  reward: number;
  /** null, or one of empty_response, schema_error, parse_error, validation_error, api_error, missing_tool_call, multiple_tool_calls, wrong_tool_name, tool_arguments_parse_error, missing_tool_payload_key. */
  errorType: string | null;
  errorMessage: string | null;
}

const pass: Grade = { reward: 1, errorType: null, errorMessage: null };
const fail = (errorType: string, errorMessage: string): Grade => ({ reward: 0, errorType, errorMessage });
/** NeMo Gym keeps "<ExceptionType>: " plus the first 200 characters of the message. */
const pyError = (errorType: string, text: string): Grade => {
  const colon = text.indexOf(": ");
  return fail(errorType, `${text.slice(0, colon)}: ${pyTruncate(text.slice(colon + 2), 200)}`);
};

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

/** Coercion (when given) and validation: any Python exception on the way is a validation_error. */
function validated(schema: unknown, value: () => unknown): Grade {
  let error: string | null;
  try {
    error = validateAgainstSchema(value(), schema);
  } catch (err) {
    if (err instanceof UnsupportedPythonRegexError) throw new ConnectError(`structured_outputs: schema_str: ${err.message}`, Code.Unimplemented);
    if (err instanceof PyException) return pyError("validation_error", `${err.name}: ${err.message}`);
    throw err;
  }
  return error === null ? pass : pyError("validation_error", error);
}

/** Text mode: the concatenated output_text of the answer, parsed as the row's schema_type. */
export function gradeText(row: StructuredOutputsRow, text: string, settings: StructuredOutputsSettings = { xml_coerce_types: true }): Grade {
  if (pyStrip(text) === "") return fail("empty_response", "No assistant response text");
  const strict = strictSchema(row.schemaStr);
  if (!("schema" in strict)) return strict;
  const parsed = parseAnswer(row.schemaType, text);
  if (!parsed.ok) return pyError("parse_error", parsed.error);
  if ("csvRows" in parsed) return validated(strict.schema, () => coerceCsv(parsed.csvRows, strict.schema));
  if (row.schemaType === "xml" && settings.xml_coerce_types) return validated(strict.schema, () => coerceXml(parsed.value, strict.schema));
  return validated(strict.schema, () => parsed.value);
}

/** Tool-call mode: the payload of the expected function call (schema_type plays no part). */
export function gradeToolCall(row: StructuredOutputsRow, response: Response): Grade {
  const call = toolCallPayload(response, { toolName: row.toolName, toolPayloadKey: row.toolPayloadKey });
  if (!call.ok) return fail(call.errorType, call.errorMessage);
  const strict = strictSchema(row.schemaStr);
  if (!("schema" in strict)) return strict;
  return validated(strict.schema, () => call.payload);
}

const structuredOutputs = defineEnvironment<unknown, StructuredOutputsSettings>({
  name: "structured_outputs",
  description: "Structured outputs: the answer (JSON, YAML, XML, TOML or CSV text, or a tool call's arguments) must validate against the row's JSON schema",
  tools: [],
  taskSchema: structuredOutputsTaskSchema,
  settings: structuredOutputsSettings,
  verify: ({ task, response, settings }) => {
    const row = readStructuredOutputsRow(task);
    const grade = row.responseMode === "tool_call" ? gradeToolCall(row, response) : gradeText(row, outputText(response), settings);
    return {
      reward: grade.reward,
      extra: {
        schema_type: row.schemaType,
        response_mode: row.responseMode,
        error_type: grade.errorType,
        error_message: grade.errorMessage,
      },
    };
  },
});

export default structuredOutputs;
