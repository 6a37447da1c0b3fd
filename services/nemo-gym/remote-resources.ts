// A ResourcesService backed by a NeMo Gym resources server over HTTP, so our
// agents can run against NeMo Gym's own (Python) environments. Each session
// keeps the cookies the server sets, merged (a later Set-Cookie replaces only
// its own name), and sends them back on every call, as NeMo Gym 0.7.0's
// simple_agent does. Tool calls behave as in that agent: the server's reply
// body, whatever its status, is the tool's output. Verify sends the row as it
// came plus the response (`{...row, "response": ...}`), nothing re-serialized
// with defaults. CloseSession posts 0.7.0's close body
// (`{resources_session_id, episode_id}`); a server without that route (404)
// or with another close body (422) has nothing to close there.
// Multi-turn Reset/Step are not part of NeMo Gym's HTTP resources servers: UNIMPLEMENTED.
import { randomUUID } from "node:crypto";
import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { VerdictSchema } from "../../gen/gymmesh/v1/task_pb.js";
import { responseToJson, taskToJson } from "../openai/responses-json.js";
import { codeOfStatus } from "./status.js";

export function createRemoteResourcesService(baseUrl: string, name: string): Partial<ServiceImpl<typeof ResourcesService>> {
  const jars = new Map<string, Map<string, string>>();

  const post = async (path: string, body: string, sessionId: string | undefined, signal: AbortSignal) => {
    const jar = sessionId ? jars.get(sessionId) : undefined;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (jar?.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    let res: Response;
    try {
      res = await fetch(`${baseUrl.replace(/\/$/, "")}/${path}`, { method: "POST", headers, body, signal });
    } catch (err) {
      if (signal.aborted) throw new ConnectError(`${name}: cancelled`, Code.Canceled);
      throw new ConnectError(`${name}: cannot reach ${baseUrl}: ${(err as Error).message}`, Code.Unavailable);
    }
    if (jar) for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return { status: res.status, text: await res.text() };
  };

  const expectOk = (what: string, r: { status: number; text: string }) => {
    if (r.status >= 200 && r.status < 300) return;
    throw new ConnectError(`${name}: ${what} answered ${r.status}: ${r.text.slice(0, 500)}`, codeOfStatus(r.status));
  };

  return {
    async seedSession(req, ctx) {
      const sessionId = newSessionId();
      jars.set(sessionId, new Map());
      const row = req.task ? taskToJson(req.task) : {};
      expectOk("seed_session", await post("seed_session", JSON.stringify(row), sessionId, ctx.signal));
      return { sessionId };
    },

    // NeMo Gym servers do not list their tools: datasets name them.
    listTools() {
      return { tools: [] };
    },

    async callTool(req, ctx) {
      try {
        JSON.parse(req.arguments || "{}");
      } catch (err) {
        throw new ConnectError(`tool ${req.name}: arguments are not valid JSON: ${(err as Error).message}`, Code.InvalidArgument);
      }
      const r = await post(encodeURIComponent(req.name), req.arguments || "{}", req.sessionId, ctx.signal);
      if (r.status >= 500) expectOk(`tool ${req.name}`, r);
      return { output: r.text };
    },

    async verify(req, ctx) {
      const row = req.task ? taskToJson(req.task) : {};
      const body = { ...row, response: req.response ? responseToJson(req.response) : null };
      const r = await post("verify", JSON.stringify(body), req.sessionId, ctx.signal);
      expectOk("verify", r);
      const reply = JSON.parse(r.text) as JsonObject;
      if (typeof reply.reward !== "number") throw new ConnectError(`${name}: verify answered without a numeric reward`, Code.Internal);
      // The verifier's own fields: everything it added to the echoed request.
      const { reward_components: components, ...extra } = Object.fromEntries(Object.entries(reply).filter(([k]) => !(k in body) && k !== "reward"));
      const typed = rewardComponents(components);
      if (components !== undefined && !typed) extra.reward_components = components;
      return {
        verdict: create(VerdictSchema, {
          reward: reply.reward,
          rewardComponents: typed ?? {},
          extraJson: Object.keys(extra).length > 0 ? JSON.stringify(extra) : "",
        }),
      };
    },

    async closeSession(req, ctx) {
      if (!jars.has(req.sessionId)) return {};
      const r = await post("close_session", JSON.stringify(closeSessionBody(req.sessionId)), req.sessionId, ctx.signal);
      jars.delete(req.sessionId);
      // No /close_session (404: older servers), or one that takes another body (422): nothing to close there.
      if (r.status !== 404 && r.status !== 422) expectOk("close_session", r);
      return {};
    },
  };
}

/**
 * A session id that is also a valid NeMo Gym `EpisodeId.rollout_id`
 * (`^[A-Za-z0-9][A-Za-z0-9._-]*$`, not ending in the reserved `-a<N>`).
 */
function newSessionId(): string {
  for (;;) {
    const id = randomUUID();
    if (!/-a[1-9][0-9]*$/.test(id)) return id;
  }
}

/** NeMo Gym 0.7.0's ResourcesCloseSessionRequest for one of our sessions. */
export function closeSessionBody(sessionId: string): JsonObject {
  return { resources_session_id: sessionId, episode_id: { rollout_id: sessionId, attempt: 0 } };
}

/** NeMo Gym's `reward_components` when it is a map of numbers (anything else stays a plain field). */
function rewardComponents(v: JsonValue | undefined): Record<string, number> | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const entries = Object.entries(v);
  return entries.every(([, x]) => typeof x === "number") ? (Object.fromEntries(entries) as Record<string, number>) : undefined;
}
