// Small JSON-over-HTTP helpers for NeMo Gym's plain HTTP routes.
import type { HttpHandler } from "../../mesh/serve.js";

export type Req = Parameters<HttpHandler>[0];
export type Res = Parameters<HttpHandler>[1];

/** Thrown by route code; becomes `{"detail": message}` with the status, as FastAPI answers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readJson(req: Req): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text ? JSON.parse(text) : {};
  } catch (err) {
    throw new HttpError(422, `body is not valid JSON: ${(err as Error).message}`);
  }
}

export function send(res: Res, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export function sendJson(res: Res, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), headers);
}

/** Cookie values of a request, by name. */
export function cookies(req: Req): Map<string, string> {
  const out = new Map<string, string>();
  const header = req.headers.cookie;
  for (const part of (Array.isArray(header) ? header.join(";") : (header ?? "")).split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return out;
}

/** Runs a route, turning HttpError and unexpected failures into FastAPI-style error bodies. */
export function route(handler: (req: Req, res: Res) => Promise<void>): (req: Req, res: Res) => void {
  return (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.end();
      if (err instanceof HttpError) return sendJson(res, err.status, { detail: err.message });
      sendJson(res, 500, { detail: (err as Error).message ?? String(err) });
    });
  };
}
