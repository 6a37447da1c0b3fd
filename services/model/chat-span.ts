// The span of one model generation, after OpenTelemetry's GenAI semantic
// conventions: `chat {model}`, kind CLIENT (the call to the upstream model),
// with the request's model and sampling settings, and the response's model,
// id, finish reasons and token usage. A no-op unless the process traces.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { context, SpanKind, trace, type Attributes, type Context, type Span, type SpanOptions } from "@opentelemetry/api";
import { isTraced, tracer } from "../mesh/tracing.js";

const CHAT: SpanOptions = { kind: SpanKind.CLIENT };

/** Starts the span of a generation of `params` (a Responses request body); undefined when tracing is off. */
export function startChatSpan(params: JsonObject, backendModel: string): { span: Span; context: Context } | undefined {
  const model = typeof params.model === "string" && params.model ? params.model : backendModel;
  const span = tracer.startSpan(`chat ${model}`, CHAT);
  if (!isTraced(span)) return undefined;
  if (span.isRecording()) {
    const attributes: Attributes = { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": model };
    const number = (key: string, value: JsonValue | undefined) => typeof value === "number" && (attributes[key] = value);
    number("gen_ai.request.temperature", params.temperature);
    number("gen_ai.request.top_p", params.top_p);
    number("gen_ai.request.max_tokens", params.max_output_tokens);
    span.setAttributes(attributes);
  }
  return { span, context: trace.setSpan(context.active(), span) };
}

/** Records what the response (a Responses object) says: its model, id, finish reasons and usage. */
export function recordResponse(span: Span, response: JsonObject): void {
  if (!span.isRecording()) return;
  const attributes: Attributes = { "gen_ai.response.finish_reasons": [finishReason(response)] };
  if (typeof response.model === "string") attributes["gen_ai.response.model"] = response.model;
  if (typeof response.id === "string") attributes["gen_ai.response.id"] = response.id;
  const usage = response.usage;
  if (usage && typeof usage === "object" && !Array.isArray(usage)) {
    if (typeof usage.input_tokens === "number") attributes["gen_ai.usage.input_tokens"] = usage.input_tokens;
    if (typeof usage.output_tokens === "number") attributes["gen_ai.usage.output_tokens"] = usage.output_tokens;
  }
  span.setAttributes(attributes);
}

/** Why the generation stopped, in the conventions' words: length, content_filter, tool_calls or stop. */
function finishReason(response: JsonObject): string {
  if (response.status === "incomplete") {
    const details = response.incomplete_details;
    const reason = details && typeof details === "object" && !Array.isArray(details) ? details.reason : undefined;
    return reason === "max_output_tokens" ? "length" : typeof reason === "string" ? reason : "incomplete";
  }
  const output = Array.isArray(response.output) ? response.output : [];
  const called = output.some((item) => item && typeof item === "object" && !Array.isArray(item) && item.type === "function_call");
  return called ? "tool_calls" : "stop";
}
