// The HandlerContext that service implementations read, for the transports
// outside connect's router (the grpc-js port, the in-process transport).
// Headers and context values are made only when read: most calls use none.
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** The response headers and trailers the handler touched, if any (what a transport must send). */
export interface SetHeaders {
  setHeader(): Headers | undefined;
  setTrailer(): Headers | undefined;
}

export function handlerContext(init: {
  method: DescMethod;
  protocolName: string;
  /** Called on each read of `signal` (lets a transport make it lazily). */
  signal: () => AbortSignal;
  timeoutMs: () => number | undefined;
  requestHeader: () => Headers;
}): HandlerContext & SetHeaders {
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let values: ContextValues | undefined;
  return {
    setHeader: () => responseHeader,
    setTrailer: () => responseTrailer,
    method: init.method,
    service: init.method.parent,
    get signal() {
      return init.signal();
    },
    timeoutMs: init.timeoutMs,
    requestMethod: "POST",
    protocolName: init.protocolName,
    url: `/${init.method.parent.typeName}/${init.method.name}`,
    get requestHeader() {
      return (requestHeader ??= init.requestHeader());
    },
    get responseHeader() {
      return (responseHeader ??= new Headers());
    },
    get responseTrailer() {
      return (responseTrailer ??= new Headers());
    },
    get values() {
      return (values ??= createContextValues());
    },
  };
}
