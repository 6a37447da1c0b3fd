// W3C trace context (`traceparent`, `tracestate`, and `baggage`) in a call's
// metadata, with OpenTelemetry's API: whatever propagator the process
// registered injects and extracts it (none: nothing, at the price of a
// no-op call). Clients add the active context to what they send; servers
// run the handler in the context the caller sent. Every transport uses these:
// grpc-js metadata, connect's Headers; the in-process transport carries the
// active context itself.
import type * as grpc from "@grpc/grpc-js";
import { context, propagation, ROOT_CONTEXT, type Context, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import type { Interceptor } from "@connectrpc/connect";

const headersSetter: TextMapSetter<Headers> = { set: (headers, key, value) => headers.set(key, value) };
const headersGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};
const metadataSetter: TextMapSetter<grpc.Metadata> = { set: (metadata, key, value) => metadata.set(key, value) };
const metadataGetter: TextMapGetter<grpc.Metadata> = {
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.length === 1 ? String(values[0]) : values.map(String);
  },
  keys: (metadata) => Object.keys(metadata.getMap()),
};

/** Adds the active trace context to a grpc-js call's metadata (nothing when there is none: tracing off). */
export function injectIntoMetadata(metadata: grpc.Metadata): void {
  const active = context.active();
  if (active !== ROOT_CONTEXT) propagation.inject(active, metadata, metadataSetter);
}

/** The caller's trace context from a grpc-js call's metadata (the root context when it sent none). */
export function extractFromMetadata(metadata: grpc.Metadata): Context {
  return propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
}

/** The caller's trace context from a request's headers (the root context when it sent none). */
export function extractFromHeaders(headers: Headers): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headersGetter);
}

/** A connect client interceptor: each call carries the active trace context in its headers. */
export const traceHeaders: Interceptor = (next) => (req) => {
  const active = context.active();
  if (active !== ROOT_CONTEXT) propagation.inject(active, req.header, headersSetter);
  return next(req);
};
