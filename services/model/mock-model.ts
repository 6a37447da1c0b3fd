// STAND-IN: the built-in mock model. No model weights can run here, so this is
// a small OpenAI-compatible HTTP server (`POST /v1/responses`, `GET /v1/models`)
// whose answers are scripted, not generated. Its script: while the request
// offers function tools and no tool output has come back yet, call the first
// tool (arguments made up from its JSON schema); otherwise answer with text.
import { randomUUID } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

export const MOCK_MODEL_NAME = "mock";

import type { HttpHandler } from "../mesh/serve.js";

type Req = Parameters<HttpHandler>[0];
type Res = Parameters<HttpHandler>[1];

/** The plain HTTP handler of the mock; mount it as a server's fallback. */
export function mockModelHandler(req: Req, res: Res): void {
  const url = req.url ?? "/";
  if (req.method === "GET" && url === "/v1/models") {
    return sendJson(res, 200, { object: "list", data: [{ id: MOCK_MODEL_NAME, object: "model", owned_by: "gym-mesh-mock" }] });
  }
  if (req.method !== "POST" || url !== "/v1/responses") {
    return sendJson(res, 404, { error: { message: `no route ${req.method} ${url}`, type: "not_found" } });
  }
  readJson(req)
    .then((body) => {
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        return sendJson(res, 400, { error: { message: "body must be a JSON object", type: "invalid_request_error" } });
      }
      if (body.stream === true) {
        return sendJson(res, 400, { error: { message: "the mock model does not stream", type: "invalid_request_error" } });
      }
      sendJson(res, 200, scriptedResponse(body));
    })
    .catch((err: Error) => sendJson(res, 400, { error: { message: `invalid JSON body: ${err.message}`, type: "invalid_request_error" } }));
}

/** The scripted answer to one Responses request. */
export function scriptedResponse(request: JsonObject): JsonObject {
  const input = Array.isArray(request.input) ? request.input : [];
  const tools = (Array.isArray(request.tools) ? request.tools : []).filter(
    (t): t is JsonObject => isObject(t) && t.type === "function",
  );
  const toolAnswered = input.some((item) => isObject(item) && item.type === "function_call_output");
  const lastToolOutput = [...input].reverse().find((item) => isObject(item) && item.type === "function_call_output") as
    | JsonObject
    | undefined;

  let output: JsonObject[];
  if (tools.length > 0 && !toolAnswered) {
    const tool = tools[0]!;
    output = [
      {
        type: "function_call",
        id: `fc_${randomUUID()}`,
        call_id: `call_${randomUUID()}`,
        name: String(tool.name),
        arguments: JSON.stringify(exampleArguments(tool.parameters)),
        status: "completed",
      },
    ];
  } else {
    const text = lastToolOutput ? `Here is what the tool said: ${String(lastToolOutput.output)}` : "Hello from the mock model.";
    output = [
      {
        type: "message",
        id: `msg_${randomUUID()}`,
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text, annotations: [] }],
      },
    ];
  }
  const inputTokens = JSON.stringify(input).length >> 2;
  const outputTokens = JSON.stringify(output).length >> 2;
  return {
    id: `resp_${randomUUID()}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model: typeof request.model === "string" ? request.model : MOCK_MODEL_NAME,
    status: "completed",
    output,
    tools: request.tools ?? [],
    usage: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  };
}

/** Made-up arguments that fit a JSON schema's required properties. */
function exampleArguments(schema: JsonValue | undefined): JsonObject {
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

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function readJson(req: Req): Promise<JsonValue> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonValue;
}

function sendJson(res: Res, status: number, body: JsonValue): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}
