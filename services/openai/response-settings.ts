// The request settings a Responses API response repeats. `parallel_tool_calls`,
// `tool_choice` and `tools` are always there (OpenAI's defaults when the
// request has none): OpenAI's SDKs and NeMo Gym's pydantic Response model
// require them, so a response without them is rejected downstream.
import type { JsonObject } from "@bufbuild/protobuf";

const OPTIONAL = ["instructions", "max_output_tokens", "metadata", "temperature", "top_p"] as const;

export function responseSettings(params: JsonObject): JsonObject {
  const out: JsonObject = {
    parallel_tool_calls: typeof params.parallel_tool_calls === "boolean" ? params.parallel_tool_calls : true,
    tool_choice: params.tool_choice ?? "auto",
    tools: Array.isArray(params.tools) ? params.tools : [],
  };
  for (const k of OPTIONAL) {
    const v = params[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}
