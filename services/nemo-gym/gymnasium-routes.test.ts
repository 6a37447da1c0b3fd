// NeMo Gym 0.7.0's gymnasium HTTP face (/reset, /step) of a multi-turn
// environment of ours: example_multi_turn_gymnasium behind the routes, on a
// plain HTTP server. test/nemo_gym/test_interop.py drives it with NeMo Gym's
// own gymnasium_agent.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import exampleMultiTurnGymnasium from "../environments/example_multi_turn_gymnasium/environment.js";
import { localClient } from "../mesh/local-transport.js";
import { createResourcesHost } from "../resources/host.js";
import { nemoGymGymnasiumRoutes } from "./gymnasium-routes.js";

const row = JSON.parse(
  fs.readFileSync(new URL("../environments/example_multi_turn_gymnasium/data/example.jsonl", import.meta.url), "utf8").split("\n")[0]!,
) as JsonObject;
const followUps = row.follow_ups as string[];

const host = createResourcesHost(exampleMultiTurnGymnasium);
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(nemoGymGymnasiumRoutes(localClient(EpisodeService, host.episodes), "gym"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const answer = (text: string) => ({
  id: "resp_1",
  object: "response",
  model: "m",
  output: [{ id: "msg_1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] }],
});

async function post(path: string, body: unknown, cookie?: string) {
  const res = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
  const setCookie = res.headers.get("set-cookie")?.split(";")[0];
  return { status: res.status, json: (await res.json()) as JsonObject, cookie: setCookie };
}

describe("NeMo Gym's gymnasium routes", () => {
  it("reset, then step through the follow-ups to the scored last turn, in 0.7.0's shapes", async () => {
    const reset = await post("/reset", row);
    expect(reset.status).toBe(200);
    expect(reset.json).toEqual({ observation: null, info: {} });
    expect(reset.cookie).toMatch(/^gym_episode_gym=/);
    const steps = [];
    for (const text of ["Paris.", "About 2 million.", "The Eiffel Tower."]) {
      steps.push((await post("/step", { ...row, response: answer(text) }, reset.cookie)).json);
    }
    expect(steps).toEqual([
      { observation: followUps[0], reward: 0, terminated: false, truncated: false, info: {} },
      { observation: followUps[1], reward: 0, terminated: false, truncated: false, info: {} },
      { observation: null, reward: 1, terminated: true, truncated: false, info: {} },
    ]);
    // The last step ended the episode.
    expect(host.openSessions()).toBe(0);
  });

  it("a reset drops the episode its cookie names first (0.7.0 clears the session's state)", async () => {
    const first = await post("/reset", row);
    await post("/step", { ...row, response: answer("Paris.") }, first.cookie);
    expect(host.openSessions()).toBe(1);
    const again = await post("/reset", row, first.cookie);
    expect(host.openSessions()).toBe(1);
    // The new episode starts at the first follow-up again.
    expect((await post("/step", { ...row, response: answer("Paris.") }, again.cookie)).json.observation).toBe(followUps[0]);
    await post("/reset", row, again.cookie).then((r) => post("/step", { ...row, follow_ups: [], response: answer("x") }, r.cookie));
    expect(host.openSessions()).toBe(0);
  });

  it("a step without a live episode starts from a fresh state, as 0.7.0's unknown session does", async () => {
    const fresh = await post("/step", { ...row, response: answer("Paris.") });
    expect(fresh.json.observation).toBe(followUps[0]);
    expect(fresh.cookie).toMatch(/^gym_episode_gym=/);
    expect((await post("/step", { ...row, response: answer("2M") }, fresh.cookie)).json.observation).toBe(followUps[1]);
    expect((await post("/step", { ...row, response: answer("Eiffel") }, fresh.cookie)).json).toMatchObject({ reward: 1, terminated: true });
    // The cookie now names an ended episode: the next step starts over.
    const over = await post("/step", { ...row, response: answer("Paris.") }, fresh.cookie);
    expect(over.json.observation).toBe(followUps[0]);
    await post("/step", { ...row, follow_ups: [], response: answer("x") }, over.cookie);
    expect(host.openSessions()).toBe(0);
  });

  it("refuses what 0.7.0's request models refuse (422), and has no /verify", async () => {
    expect((await post("/reset", { follow_ups: [] })).status).toBe(422);
    expect((await post("/step", row)).status).toBe(422);
    expect((await post("/step", { ...row, response: { output: "x" } })).status).toBe(422);
    const userOutput = { id: "r", output: [{ type: "message", role: "user", status: "completed", content: [{ type: "output_text", text: "hi" }] }] };
    expect((await post("/step", { ...row, response: userOutput })).status).toBe(422);
    expect((await post("/verify", { ...row, response: answer("x") })).status).toBe(404);
    expect(host.openSessions()).toBe(0);
  });
});
