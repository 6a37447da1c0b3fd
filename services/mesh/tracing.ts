// Spans, with OpenTelemetry's API only: the process's entry point installs an
// SDK when tracing is on (app/telemetry-setup.ts); without one every call
// here is the API's no-op (a non-recording span, no context switch). The
// servers of every transport run a handler in a SERVER span named
// `{service}/{method}` (unary and server-streaming calls; a bidi stream such
// as RolloutService.Collect carries many units of work, each traced on its
// own, so its handler only runs in the caller's context). Kinds add their own
// spans (gym.rollout, chat {model}, execute_tool {name}, verify).
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, Code, type Interceptor } from "@connectrpc/connect";
import { extractFromHeaders } from "./trace-context.js";
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
} from "@opentelemetry/api";

/** The mesh's tracer (a proxy: it follows the provider registered later). */
export const tracer = trace.getTracer("gym-mesh");

/** A span that records, or carries a trace on (sampled out): tracing is on. A no-op span is neither. */
export function isTraced(span: Span): boolean {
  return span.isRecording() || isSpanContextValid(span.spanContext());
}

/** The trace id of the active span ("" when there is none: tracing off). */
export function activeTraceId(): string {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : "";
}

/** Runs `fn` in `ctx` (no switch when it is already the active one). */
export function runIn<T>(ctx: Context, fn: () => T): T {
  return ctx === context.active() ? fn() : context.with(ctx, fn);
}

/** Ends a span; a failure sets status ERROR, records the error and its code as `error.type`. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined && span.isRecording()) {
    const error = ConnectError.from(err);
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
    span.setAttribute("error.type", Code[error.code] ?? String(error.code));
  }
  span.end();
}

/**
 * Runs `work` in a new span, child of the active context, ended when it
 * settles (ERROR when it throws). Tracing off, `work` runs as it is.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, options);
  if (!isTraced(span)) return work(span);
  try {
    const out = await context.with(trace.setSpan(context.active(), span), () => work(span));
    span.end();
    return out;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

const SERVER: SpanOptions = { kind: SpanKind.SERVER };
const rpcNames = new WeakMap<DescMethod, string>();

/**
 * The SERVER span of one call, child of the caller's context `parent`;
 * undefined for streams from the caller (bidi, client streaming), for
 * health and reflection, and when tracing is off.
 */
export function serverSpan(method: DescMethod, parent: Context): Span | undefined {
  if (method.methodKind === "bidi_streaming" || method.methodKind === "client_streaming") return undefined;
  const service = method.parent.typeName;
  if (service.startsWith("grpc.")) return undefined;
  let name = rpcNames.get(method);
  if (name === undefined) rpcNames.set(method, (name = `${service}/${method.name}`));
  const span = tracer.startSpan(name, SERVER, parent);
  if (!isTraced(span)) return undefined;
  if (span.isRecording()) span.setAttributes({ "rpc.system": "grpc", "rpc.service": service, "rpc.method": method.name });
  return span;
}

/** Ends a server span with the call's gRPC status code. */
export function endServerSpan(span: Span, err?: unknown): void {
  if (span.isRecording()) span.setAttribute("rpc.grpc.status_code", err === undefined ? 0 : ConnectError.from(err).code);
  endSpan(span, err);
}

/** The context a handler runs in: the caller's, with the server span when there is one. */
export function handlerTraceContext(parent: Context, span: Span | undefined): Context {
  return span ? trace.setSpan(parent, span) : parent;
}

/**
 * A handler's unary result: the server span (if any) ends when it settles.
 */
export function endWhenSettled<T>(result: Promise<T>, span: Span | undefined): Promise<T> {
  if (!span) return result;
  return result.then(
    (value) => (endServerSpan(span), value),
    (err: unknown) => {
      endServerSpan(span, err);
      throw err;
    },
  );
}

/**
 * A handler's stream of answers with each step run in `ctx` (so the handler's
 * generator works in the caller's trace), ending the server span (if any)
 * when the stream ends, fails or is left early (CANCELLED).
 */
export async function* boundStream<T>(source: AsyncIterable<T>, ctx: Context, span: Span | undefined): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = await context.with(ctx, () => iterator.next());
      if (next.done) break;
      yield next.value;
    }
    ended = true;
    if (span) endServerSpan(span);
  } catch (err) {
    ended = true;
    if (span) endServerSpan(span, err);
    throw err;
  } finally {
    if (!ended) {
      if (span) endServerSpan(span, new ConnectError("the caller stopped reading", Code.Canceled));
      await context.with(ctx, () => iterator.return?.());
    }
  }
}

/** `boundStream` when there is a trace to carry, else the source as it is (tracing off). */
export function tracedStream<T>(source: AsyncIterable<T>, ctx: Context, span: Span | undefined): AsyncIterable<T> {
  return span || ctx !== ROOT_CONTEXT ? boundStream(source, ctx, span) : source;
}

/** The connect router's server interceptor: each handler runs in the caller's trace context, in its SERVER span. */
export const traceServer: Interceptor = (next) => async (req) => {
  const parent = extractFromHeaders(req.header);
  const span = serverSpan(req.method, parent);
  const ctx = handlerTraceContext(parent, span);
  if (!span && ctx === ROOT_CONTEXT) return next(req);
  try {
    const res = await context.with(ctx, () => next(req));
    if (!res.stream) {
      if (span) endServerSpan(span);
      return res;
    }
    return { ...res, message: boundStream(res.message, ctx, span) } as typeof res;
  } catch (err) {
    if (span) endServerSpan(span, err);
    throw err;
  }
};

/** The baggage entry that says a `gym.rollout` span is above (its rollout id): whoever runs the rollout below starts none of its own. */
export const ROLLOUT_BAGGAGE = "gym.rollout.id";

/**
 * Starts the `gym.rollout` span of one rollout (a child of the active context:
 * the root of its trace unless the caller traced its own call) and the
 * context to run the rollout in (the span, and the rollout id as baggage).
 * Undefined when tracing is off.
 */
export function startRolloutSpan(rolloutId: string, attributes: Attributes): { span: Span; context: Context } | undefined {
  const span = tracer.startSpan("gym.rollout");
  if (!isTraced(span)) return undefined;
  if (span.isRecording()) span.setAttributes({ "gym.rollout.id": rolloutId, ...attributes });
  const active = context.active();
  const baggage = (propagation.getBaggage(active) ?? propagation.createBaggage()).setEntry(ROLLOUT_BAGGAGE, { value: rolloutId });
  return { span, context: propagation.setBaggage(trace.setSpan(active, span), baggage) };
}

/** Whether the active context is a rollout's (a `gym.rollout` span is above, in this process or the caller's). */
export function inRolloutTrace(): boolean {
  const active = context.active();
  return active !== ROOT_CONTEXT && propagation.getBaggage(active)?.getEntry(ROLLOUT_BAGGAGE) !== undefined;
}
