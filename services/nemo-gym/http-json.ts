// NeMo Gym's HTTP conventions on top of the shared HTTP plumbing: FastAPI's
// error shape (`{"detail": ...}`), 422 for a body that does not validate,
// and the session cookie.
import { Code, ConnectError } from "@connectrpc/connect";
import { HttpError, JsonDepthError, readJsonBody, sendJson, statusForCode, type HttpRequest, type HttpResponse } from "../mesh/http-io.js";

export { HttpError, sendJson, type HttpRequest as Req, type HttpResponse as Res };

/** The JSON body; one that is not JSON is FastAPI's 422 (over-deep JSON stays 400, too large 413). */
export async function readJson(req: HttpRequest): Promise<unknown> {
  try {
    return await readJsonBody(req);
  } catch (err) {
    if (err instanceof HttpError && err.status === 400 && !(err instanceof JsonDepthError)) throw new HttpError(422, err.message);
    throw err;
  }
}

/** A raw text body (a tool's output, passed on as the tool wrote it). */
export function send(res: HttpResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** Cookie values of a request, by name; a value with bad %-encoding is 400. */
export function cookies(req: HttpRequest): Map<string, string> {
  const out = new Map<string, string>();
  const header = req.headers.cookie;
  for (const part of (Array.isArray(header) ? header.join(";") : (header ?? "")).split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), decodeCookie(part.slice(0, eq).trim(), part.slice(eq + 1).trim()));
  }
  return out;
}

function decodeCookie(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, `cookie ${name}: malformed %-encoding`);
  }
}

/** A failed RPC as the HTTP error FastAPI would give the same mistake (422 for invalid input). */
export function httpErrorOf(err: unknown): HttpError {
  const error = ConnectError.from(err);
  return new HttpError(error.code === Code.InvalidArgument ? 422 : statusForCode(error.code), error.rawMessage);
}

/** Runs a route, turning failures into FastAPI-style error bodies. */
export function route(handler: (req: HttpRequest, res: HttpResponse) => Promise<void>): (req: HttpRequest, res: HttpResponse) => void {
  return (req, res) => {
    handler(req, res).catch((err: unknown) => {
      const error = err instanceof HttpError ? err : httpErrorOf(err);
      sendJson(res, error.status, { detail: error.message });
    });
  };
}
