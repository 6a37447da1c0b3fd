// NeMo Gym's HTTP face of a resources server, so NeMo Gym's own agents and
// clients can use our environments: `POST /seed_session`, `POST /<tool_name>`,
// `POST /verify`, `POST /close_session`, in NeMo Gym's JSON shapes, with the
// session kept in a cookie (which NeMo Gym's agents forward between calls).
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { responseFromJson, responseToJson, taskFromJson, JsonShapeError, verdictFields } from "../openai/responses-json.js";
import { cookies, HttpError, httpErrorOf, readJson, route, send, sendJson, type Req, type Res } from "./http-json.js";

export function nemoGymResourcesRoutes(resources: Client<typeof ResourcesService>, instance: string) {
  const cookieName = `gym_session_${instance}`;
  const setCookie = (sessionId: string) => ({ "set-cookie": `${cookieName}=${encodeURIComponent(sessionId)}; Path=/; HttpOnly; SameSite=Lax` });

  /** The request's session; NeMo Gym makes one for any request without, so do we (closed after the request). */
  const sessionOf = async (req: Req, row?: JsonObject): Promise<{ sessionId: string; isNew: boolean }> => {
    const known = cookies(req).get(cookieName);
    if (known) return { sessionId: known, isNew: false };
    const task = row && "responses_create_params" in row ? taskFromJson(row) : undefined;
    const { sessionId } = await resources.seedSession({ task });
    return { sessionId, isNew: true };
  };

  /** Runs a call in the session; one opened for this request alone (no cookie) is closed after it, failed or not. */
  const closingNew = async <T>(isNew: boolean, sessionId: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } finally {
      if (isNew) await resources.closeSession({ sessionId }).catch(() => undefined);
    }
  };

  return route(async (req: Req, res: Res) => {
    if (req.method !== "POST") throw new HttpError(404, "Not Found");
    const path = (req.url ?? "/").split("?")[0]!.replace(/^\/+/, "");
    const body = await readJson(req);
    try {
      switch (path) {
        case "seed_session": {
          // Always a fresh session for the row, as a new rollout starts here.
          const row = asObject(body);
          const { sessionId } = await resources.seedSession({ task: "responses_create_params" in row ? taskFromJson(row) : undefined });
          return sendJson(res, 200, {}, setCookie(sessionId));
        }
        case "verify": {
          const row = asObject(body);
          const { sessionId, isNew } = await sessionOf(req, row);
          // A session opened for this call alone is closed after it, whatever the outcome: no cookie can name it again.
          const { verdict } = await closingNew(isNew, sessionId, () =>
            resources.verify({ sessionId, task: taskFromJson(row), response: responseFromJson(row.response) }),
          );
          const reply = { ...row, response: responseToJson(responseFromJson(row.response)), reward: verdict?.reward ?? 0, ...verdictFields(verdict) };
          return sendJson(res, 200, reply);
        }
        case "close_session": {
          const sessionId = cookies(req).get(cookieName);
          if (sessionId) await resources.closeSession({ sessionId });
          return sendJson(res, 200, {});
        }
        default: {
          // A tool call: the body is the arguments; the reply body is the tool's output.
          if (!/^[A-Za-z0-9_.-]+$/.test(path)) throw new HttpError(404, "Not Found");
          const { sessionId, isNew } = await sessionOf(req);
          const { output } = await closingNew(isNew, sessionId, () => resources.callTool({ sessionId, name: path, arguments: JSON.stringify(body) }));
          return send(res, 200, output);
        }
      }
    } catch (err) {
      if (err instanceof JsonShapeError) throw new HttpError(422, err.message);
      if (err instanceof HttpError) throw err;
      if (ConnectError.from(err).code === Code.NotFound && !["seed_session", "verify", "close_session"].includes(path)) {
        throw new HttpError(404, ConnectError.from(err).rawMessage);
      }
      throw httpErrorOf(err);
    }
  });
}

function asObject(body: unknown): JsonObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(422, "body must be a JSON object");
  return body as JsonObject;
}
