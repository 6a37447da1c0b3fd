// The nemo_gym_resources kind against a stand-in of a NeMo Gym 0.7.0
// resources server (plain HTTP): the cookies it keeps, the verify body it
// sends, and its close_session body (0.7.0's ResourcesCloseSessionRequest).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { localClient } from "../mesh/local-transport.js";
import { responseFromJson, taskFromJson } from "../openai/responses-json.js";
import { closeSessionBody, createRemoteResourcesService } from "./remote-resources.js";

interface Seen {
  path: string;
  cookie: string | undefined;
  body: JsonObject;
}

let server: http.Server;
let seen: Seen[] = [];
/** How /close_session answers: 0.7.0 (422 without its body), an old server (404), one whose close takes another body (422), or a failing one (500). */
let closeMode: "v0.7" | "absent" | "other" | "broken" = "v0.7";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      const path = req.url ?? "/";
      const body = JSON.parse(text || "{}") as JsonObject;
      seen.push({ path, cookie: req.headers.cookie, body });
      const json = (status: number, value: unknown, cookies: string[] = []) => {
        res.writeHead(status, { "content-type": "application/json", ...(cookies.length ? { "set-cookie": cookies } : {}) });
        res.end(JSON.stringify(value));
      };
      if (path === "/seed_session") return json(200, {}, ["session=s1; Path=/; HttpOnly", "route=r1; Path=/"]);
      if (path === "/lookup") return json(200, { city: body.city }, ["session=s2; Path=/", "extra=e1"]);
      if (path === "/verify") return json(200, { ...body, reward: 1, checked: true });
      if (path === "/close_session") {
        if (closeMode === "absent") return json(404, { detail: "Not Found" });
        if (closeMode === "broken") return json(500, { detail: "boom" });
        if (closeMode === "other") return json(422, { detail: [{ type: "missing", loc: ["body", "other_id"] }] });
        const ok = typeof body.resources_session_id === "string" && typeof body.episode_id === "object" && Object.keys(body).length === 2;
        return ok ? json(200, { resources_session_id: body.resources_session_id }) : json(422, { detail: [{ type: "missing" }] });
      }
      json(404, { detail: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  closeMode = "v0.7";
});

const client = () => localClient(ResourcesService, createRemoteResourcesService(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, "remote"));

const row = {
  responses_create_params: { input: "Weather in Paris?" },
  verifier_metadata: { expected: "cold", weight: 2 },
  task_id: "t-7",
  _ng_task_index: 7,
};
const response = {
  id: "resp_1",
  object: "response",
  output: [
    {
      type: "message",
      id: "msg_1",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "cold", annotations: [] }],
      routed_experts: [[[0, 1]]],
    },
  ],
  metadata: { run: "1" },
};

describe("nemo_gym_resources (a NeMo Gym 0.7.0 server over HTTP)", () => {
  it("merges the cookies each reply sets, as 0.7.0's simple_agent does", async () => {
    const c = client();
    const { sessionId } = await c.seedSession({ task: taskFromJson(row) });
    await c.callTool({ sessionId, name: "lookup", arguments: '{"city": "Paris"}' });
    await c.verify({ sessionId, task: taskFromJson(row), response: responseFromJson(response) });
    const cookie = (path: string) => seen.find((s) => s.path === path)?.cookie;
    expect(cookie("/seed_session")).toBeUndefined();
    expect(cookie("/lookup")).toBe("session=s1; route=r1");
    // The tool's reply replaced `session` and added `extra`; `route` stays.
    expect(cookie("/verify")).toBe("session=s2; route=r1; extra=e1");
  });

  it("sends the row as it came plus the response, unknown fields and all", async () => {
    const c = client();
    const { sessionId } = await c.seedSession({ task: taskFromJson(row) });
    const { verdict } = await c.verify({ sessionId, task: taskFromJson(row), response: responseFromJson(response) });
    expect(seen.find((s) => s.path === "/seed_session")!.body).toEqual(row);
    expect(seen.find((s) => s.path === "/verify")!.body).toEqual({ ...row, response });
    expect(verdict!.reward).toBe(1);
    expect(JSON.parse(verdict!.extraJson)).toEqual({ checked: true });
  });

  it("closes with 0.7.0's {resources_session_id, episode_id}", async () => {
    const c = client();
    const { sessionId } = await c.seedSession({ task: taskFromJson(row) });
    await c.closeSession({ sessionId });
    const close = seen.find((s) => s.path === "/close_session")!;
    expect(close.body).toEqual({ resources_session_id: sessionId, episode_id: { rollout_id: sessionId, attempt: 0 } });
    expect(close.cookie).toBe("session=s1; route=r1");
    // A second close has nothing to send.
    await c.closeSession({ sessionId });
    expect(seen.filter((s) => s.path === "/close_session")).toHaveLength(1);
  });

  it("makes session ids that are valid NeMo Gym rollout ids (never the reserved -a<N> ending)", async () => {
    const c = client();
    for (let i = 0; i < 50; i++) {
      const { sessionId } = await c.seedSession({});
      expect(sessionId).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(sessionId).not.toMatch(/-a[1-9][0-9]*$/);
      expect(closeSessionBody(sessionId).episode_id).toEqual({ rollout_id: sessionId, attempt: 0 });
    }
  });

  it("takes a 404 (no /close_session) or a 422 (a close that takes another body) as nothing to close; a 500 fails", async () => {
    const c = client();
    closeMode = "absent";
    await expect(c.closeSession({ sessionId: (await c.seedSession({})).sessionId })).resolves.toBeDefined();
    closeMode = "other";
    await expect(c.closeSession({ sessionId: (await c.seedSession({})).sessionId })).resolves.toBeDefined();
    closeMode = "broken";
    const err = await c.closeSession({ sessionId: (await c.seedSession({})).sessionId }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
  });
});
