// Bearer-token authentication of one server, on both ports: every RPC and
// every HTTP route needs `authorization: Bearer TOKEN`, except the gRPC health
// service (Kubernetes probes carry no token) and, when the config says so,
// GET /metrics. A call without the token is UNAUTHENTICATED (HTTP 401 on the
// HTTP routes, with an OpenAI-style error body). The comparison takes the
// same time whatever the token sent; the token never goes in a message or a
// log line.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { hideInLogs } from "./log.js";
import type { TlsMaterial } from "./tls.js";

/** The security of every instance a process starts (the config's `security:`), and of its calls to peers. */
export interface MeshSecurity {
  /** Every call must carry `authorization: Bearer <token>`; calls to peers send it. None: no token checked. */
  token?: string;
  /** GET /metrics answers without the token (default true: Prometheus scrapes inside the cluster). */
  metricsPublic?: boolean;
  /** TLS on both ports (mutual with a CA); calls to https:// and grpcs:// peers use it. */
  tls?: TlsMaterial;
}

/** Services anyone may call: health, for probes and load balancers. Reflection needs the token. */
const PUBLIC_SERVICES = new Set([Health.typeName]);

type Verdict = "ok" | "missing" | "wrong";

const MESSAGES: Record<Exclude<Verdict, "ok">, string> = {
  missing: "this server needs a bearer token: send the header `authorization: Bearer <token>`",
  wrong: "the bearer token is not valid",
};

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Checks an `authorization` header value against the token, in constant time. */
function checker(token: string): (authorization: string | undefined) => Verdict {
  const want = digest(token);
  return (authorization) => {
    if (!authorization) return "missing";
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return "missing";
    // Digests have one length, so timingSafeEqual neither throws nor tells the length apart.
    return timingSafeEqual(digest(match[1]!), want) ? "ok" : "wrong";
  };
}

export interface ServerAuth {
  /** The connect interceptor (main port: gRPC, gRPC-Web, Connect). */
  connect: Interceptor;
  /**
   * For the HTTP routes: true when the request may go on; otherwise it has
   * answered 401 with an OpenAI-style error.
   */
  http(
    req: { method?: string; url?: string; headers: IncomingHttpHeaders },
    res: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown },
  ): boolean;
  /** The grpc-js port's interceptor; `refused` counts a refused call (service, method). */
  grpcJs(refused?: (service: string, method: string) => void): grpc.ServerInterceptor;
}

/** The checks of a server with this security; none when it has no token. */
export function serverAuth(security: MeshSecurity | undefined): ServerAuth | undefined {
  const token = security?.token;
  if (!token) return undefined;
  hideInLogs(token);
  const check = checker(token);
  const metricsPublic = security.metricsPublic ?? true;

  return {
    connect: (next) => async (req) => {
      if (!PUBLIC_SERVICES.has(req.service.typeName)) {
        const verdict = check(req.header.get("authorization") ?? undefined);
        if (verdict !== "ok") throw new ConnectError(MESSAGES[verdict], Code.Unauthenticated);
      }
      return next(req);
    },

    http(req, res) {
      if (metricsPublic && req.method === "GET" && req.url === "/metrics") return true;
      const header = req.headers.authorization;
      const verdict = check(Array.isArray(header) ? header[0] : header);
      if (verdict === "ok") return true;
      const body = JSON.stringify({ error: { message: MESSAGES[verdict], type: "invalid_request_error", param: null, code: "invalid_api_key" } });
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="gym-mesh"' });
      res.end(body);
      return false;
    },

    grpcJs: (refused) => (method, call) => {
      const [, service = "", name = ""] = method.path.split("/");
      if (PUBLIC_SERVICES.has(service)) return new grpc.ServerInterceptingCall(call);
      return new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, pass) => {
              const value = metadata.get("authorization")[0];
              const verdict = check(typeof value === "string" ? value : undefined);
              if (verdict === "ok") return pass(metadata);
              refused?.(service, name);
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: MESSAGES[verdict], metadata: new grpc.Metadata() });
            },
          }),
      });
    },
  };
}

/** `authorization` of calls to peers, when the mesh has a token. */
export function peerAuthorization(security: MeshSecurity | undefined): string | undefined {
  return security?.token ? `Bearer ${security.token}` : undefined;
}
