import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseFromJson, roleName, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { environmentSettings } from "../../resources/environment.js";
import { hostClients } from "../../resources/verify-cases.js";
import { EpisodeService } from "../../../gen/gymmesh/v1/episode_pb.js";
import { localClient } from "../../mesh/local-transport.js";
import { nemoGymGymnasiumRoutes } from "../../nemo-gym/gymnasium-routes.js";
import { createResourcesHost } from "../../resources/host.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import grlSokoban, { formatObservation } from "./environment.js";
import { generateRoom, GenerationError } from "./generator.js";
import { BOX, BOX_ON_TARGET, PLAYER, roomProblem, SokobanGame, TARGET, WALL, type Grid } from "./sokoban.js";

const DATA = fileURLToPath(new URL("./data/", import.meta.url));
const rows = fs
  .readFileSync(path.join(DATA, "example.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const { episodes } = hostClients(grlSokoban);
const answer = (text: string) =>
  responseFromJson({ id: "r", output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] }] });
const GLYPHS = new Map([
  [0, "#"],
  [1, "_"],
  [2, "O"],
  [3, "√"],
  [4, "X"],
  [5, "P"],
  [6, "S"],
]);
const UP = 1;
const DOWN = 2;
const LEFT = 3;
const RIGHT = 4;

// A 7x5 room with two targets in one column; boxes at (4,2) and (2,1), the player at (5,2).
const FIXED: Grid = [
  [0, 0, 0, 0, 0],
  [0, 1, 2, 1, 0],
  [0, 1, 1, 1, 0],
  [0, 1, 2, 1, 0],
  [0, 1, 1, 1, 0],
  [0, 1, 1, 1, 0],
  [0, 0, 0, 0, 0],
];
const STATE: Grid = [
  [0, 0, 0, 0, 0],
  [0, 1, 2, 1, 0],
  [0, 4, 1, 1, 0],
  [0, 1, 2, 1, 0],
  [0, 1, 4, 1, 0],
  [0, 1, 5, 1, 0],
  [0, 0, 0, 0, 0],
];
// A 5x5 room with one target above the box, the player below it.
const FIXED1: Grid = [
  [0, 0, 0, 0, 0],
  [0, 1, 2, 1, 0],
  [0, 1, 1, 1, 0],
  [0, 1, 1, 1, 0],
  [0, 0, 0, 0, 0],
];
const STATE1: Grid = [
  [0, 0, 0, 0, 0],
  [0, 1, 2, 1, 0],
  [0, 1, 4, 1, 0],
  [0, 1, 5, 1, 0],
  [0, 0, 0, 0, 0],
];

/** Shortest push/move sequence solving a room (breadth first over player and boxes), or undefined. */
function solve(fixed: Grid, state: Grid): number[] | undefined {
  const key = (g: SokobanGame) => g.render(GLYPHS);
  const start = new SokobanGame(fixed, state, fixed.flat().filter((v) => v === TARGET).length, 0);
  const seen = new Set([key(start)]);
  let frontier: { moves: number[] }[] = [{ moves: [] }];
  for (let depth = 0; depth < 60 && frontier.length; depth++) {
    const next: { moves: number[] }[] = [];
    for (const { moves } of frontier) {
      for (const a of [UP, DOWN, LEFT, RIGHT]) {
        const g = new SokobanGame(fixed, state, start.numBoxes, 0);
        let done = false;
        for (const m of [...moves, a]) done = g.step(m).done;
        if (done) return [...moves, a];
        const k = key(g);
        if (!seen.has(k)) {
          seen.add(k);
          next.push({ moves: [...moves, a] });
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

describe("grl_sokoban game (gym-sokoban's rules)", () => {
  it("scores -0.1 a step, +1 for a box onto a target, -1 for one off", () => {
    const g = new SokobanGame(FIXED, STATE, 2, 100);
    expect(g.step(UP)).toEqual({ reward: -0.1 + 1, done: false, movedPlayer: true }); // box onto (3,2)
    expect(g.render(GLYPHS)).toBe("#####\n#_O_#\n#X__#\n#_√_#\n#_P_#\n#___#\n#####");
    expect(g.step(UP).reward).toBe(-0.1 - 1); // pushed on, off the target; the player stands on it
    expect(g.render(GLYPHS)).toBe("#####\n#_O_#\n#XX_#\n#_S_#\n#___#\n#___#\n#####");
    expect(g.step(UP)).toEqual({ reward: -0.1 + 1, done: false, movedPlayer: true }); // onto the top target
    expect(g.boxesOnTarget).toBe(1);
  });

  it("ends the episode with +10 when the last box is on its target", () => {
    const g = new SokobanGame(FIXED1, STATE1, 1, 100);
    expect(g.step(UP)).toEqual({ reward: -0.1 + 1 + 10, done: true, movedPlayer: true });
    expect(g.render(GLYPHS)).toBe("#####\n#_√_#\n#_P_#\n#___#\n#####");
  });

  it("does not push a box into a wall or another box, and the player stays", () => {
    const wall = STATE1.map((r) => [...r]);
    wall[2]![2] = 1;
    wall[2]![1] = BOX;
    wall[3]![2] = 1;
    wall[2]![2] = PLAYER;
    const g = new SokobanGame(FIXED1, wall, 1, 100);
    expect(g.step(LEFT)).toEqual({ reward: -0.1, done: false, movedPlayer: false });
    const column = STATE.map((r) => [...r]);
    column[2]![1] = 1;
    column[3]![2] = BOX_ON_TARGET; // a box on the lower target, another under it, the player below
    const h = new SokobanGame(FIXED, column, 2, 100);
    expect(h.step(UP)).toEqual({ reward: -0.1 + 1, done: false, movedPlayer: false }); // +1: gym-sokoban's first count
    expect(h.step(UP)).toEqual({ reward: -0.1, done: false, movedPlayer: false });
  });

  it("moves onto floor, never into walls; the step count ends the episode at max_steps exactly", () => {
    const g = new SokobanGame(FIXED, STATE, 2, 2);
    expect(g.step(DOWN)).toEqual({ reward: -0.1, done: false, movedPlayer: false }); // wall
    expect(g.step(LEFT)).toEqual({ reward: -0.1, done: true, movedPlayer: true });
    const never = new SokobanGame(FIXED, STATE, 2, 0);
    for (let i = 0; i < 5; i++) expect(never.step(i % 2 ? LEFT : RIGHT).done).toBe(false);
  });

  it("counts a box left on its target from the first step (+1 whatever the move), as gym-sokoban's reset sets 0", () => {
    const state = STATE.map((r) => [...r]);
    state[1]![2] = BOX; // on the top target, shown as X as the release's generator leaves it
    state[4]![2] = 1;
    state[4]![1] = BOX;
    const g = new SokobanGame(FIXED, state, 2, 100);
    expect(g.render(GLYPHS).split("\n")[1]).toBe("#_X_#");
    expect(g.step(DOWN).reward).toBe(-0.1 + 1);
    expect(g.step(DOWN).reward).toBe(-0.1);
  });

  it("checks a room given in a row", () => {
    expect(roomProblem(FIXED, STATE)).toBeUndefined();
    const noWall = FIXED.map((r) => [...r]);
    noWall[0]![2] = 1;
    expect(roomProblem(noWall, STATE)).toMatch(/border/);
    const twoPlayers = STATE.map((r) => [...r]);
    twoPlayers[5]![1] = PLAYER;
    expect(roomProblem(FIXED, twoPlayers)).toMatch(/2 players/);
    const extraBox = STATE.map((r) => [...r]);
    extraBox[5]![3] = BOX;
    expect(roomProblem(FIXED, extraBox)).toMatch(/3 boxes \(3 or 4\) for 2 targets/);
    const boxOnFloorAsOnTarget = STATE.map((r) => [...r]);
    boxOnFloorAsOnTarget[4]![2] = BOX_ON_TARGET;
    expect(roomProblem(FIXED, boxOnFloorAsOnTarget)).toMatch(/no target/);
    expect(roomProblem([[WALL]], [[WALL]])).toMatch(/at least 3/);
  });
});

describe("grl_sokoban generator (ours, for rows without a room)", () => {
  it("is deterministic per seed and differs between seeds", () => {
    const a = generateRoom({ dimRoom: [6, 6], numBoxes: 1, searchDepth: 100, seed: 7 });
    expect(generateRoom({ dimRoom: [6, 6], numBoxes: 1, searchDepth: 100, seed: 7 })).toEqual(a);
    const others = [8, 9, 10].map((seed) => generateRoom({ dimRoom: [6, 6], numBoxes: 1, searchDepth: 100, seed }));
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(a))).toBe(true);
  });

  it("makes valid, solvable rooms of the asked size and box count", () => {
    for (const [dim, boxes] of [
      [[5, 5], 1],
      [[6, 6], 1],
      [[8, 8], 1],
      [[6, 4], 1],
      [[7, 7], 2],
    ] as const) {
      for (let seed = 0; seed < 6; seed++) {
        const { roomFixed, roomState } = generateRoom({ dimRoom: [dim[0], dim[1]], numBoxes: boxes, searchDepth: 100, seed });
        expect(roomProblem(roomFixed, roomState)).toBeUndefined();
        expect([roomFixed.length, roomFixed[0]!.length]).toEqual(dim);
        expect(roomFixed.flat().filter((v) => v === TARGET)).toHaveLength(boxes);
        // Not solved already, and solvable.
        expect(roomState.flat().some((v) => v === TARGET) || roomState.some((r, i) => r.some((v, j) => v === PLAYER && roomFixed[i]![j] === TARGET))).toBe(true);
        expect(solve(roomFixed, roomState), `${JSON.stringify(dim)} seed ${seed}`).toBeDefined();
      }
    }
  });

  it("refuses rooms too small to hold a player and the boxes", () => {
    expect(() => generateRoom({ dimRoom: [3, 3], numBoxes: 1, searchDepth: 100, seed: 1 })).toThrow(GenerationError);
  });
});

describe("grl_sokoban Reset/Step", () => {
  const level1 = rows[0]; // seed 84810, the release's room stored beside it
  it("shows the stored room with the release's legend and answers each move with the next board", async () => {
    const task = taskFromJson(level1);
    const { episodeId, observation } = await episodes.reset({ task });
    expect(observation).toBe(formatObservation("#####\n#O__#\n#_X_#\n#_P_#\n#####"));
    const left = await episodes.step({ episodeId, task, response: answer("<action>Left</action>") });
    expect(left).toMatchObject({ reward: -0.1, terminated: false, truncated: false, observation: formatObservation("#####\n#O__#\n#_X_#\n#P__#\n#####") });
  });

  it("solves level 1 (push up, walk round, push left): +10.9 on the last push, the last board without legend", async () => {
    const task = taskFromJson(level1);
    const { episodeId } = await episodes.reset({ task });
    const steps = [];
    for (const m of ["Up", "Right", "Up", "Left"]) steps.push(await episodes.step({ episodeId, task, response: answer(`<action>${m}</action>`) }));
    expect(steps.map((s) => [s.reward, s.terminated])).toEqual([
      [-0.1, false],
      [-0.1, false],
      [-0.1, false],
      [-0.1 + 1 + 10, true],
    ]);
    expect(steps[3]!.observation).toBe("#####\n#√P_#\n#___#\n#___#\n#####");
    expect(JSON.parse(steps[3]!.infoJson)).toEqual({
      action_is_effective: true,
      action_is_valid: true,
      success: true,
      action_id: 3,
      action_label: "Left",
      total_reward: -0.1 - 0.1 - 0.1 + 10.9,
    });
    // The ended episode is gone.
    await expect(episodes.step({ episodeId, task, response: answer("Up") })).rejects.toMatchObject({ code: Code.Aborted });
  });

  it("refuses a move it cannot read with the release's message, and the episode goes on", async () => {
    const task = taskFromJson(level1);
    const { episodeId } = await episodes.reset({ task });
    await expect(episodes.step({ episodeId, task, response: answer("  Hmm, diagonal?\n") })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("Unable to parse action from response: 'Hmm, diagonal?'"),
    });
    const s = await episodes.step({ episodeId, task, response: answer("left") });
    expect(JSON.parse(s.infoJson)).toMatchObject({ action_id: 3, action_label: "Left", action_is_effective: true, total_reward: -0.1 });
  });

  it("generates its own room for a row with a seed and no room, the same for the same seed", async () => {
    const row = { ...level1, seed: 12345, dim_room: [7, 7], room_fixed: undefined, room_state: undefined };
    const a = await episodes.reset({ task: taskFromJson(row) });
    const b = await episodes.reset({ task: taskFromJson(row) });
    expect(a.observation).toBe(b.observation);
    expect(a.observation!.split("\n").slice(1, 8).every((line) => line.length === 7)).toBe(true);
    const unseeded = await episodes.reset({ task: taskFromJson({ ...row, seed: undefined }) });
    expect(unseeded.observation).toMatch(/^Sokoban board:\n/);
  });

  it("refuses malformed rows naming the field", async () => {
    const reset = (patch: object) => episodes.reset({ task: taskFromJson({ ...level1, ...patch }) });
    const bad = (field: string) => ({ code: Code.InvalidArgument, rawMessage: expect.stringContaining(field) });
    await expect(reset({ room_state: undefined })).rejects.toMatchObject(bad("room_state"));
    await expect(reset({ dim_room: [6, 6] })).rejects.toMatchObject(bad("dim_room says 6x6"));
    await expect(reset({ num_boxes: 2 })).rejects.toMatchObject(bad("num_boxes says 2"));
    await expect(reset({ room_state: [[0, 0], [0, 5]] })).rejects.toMatchObject(bad("task.room_state"));
    await expect(reset({ seed: -1 })).rejects.toMatchObject(bad("task.seed"));
    await expect(reset({ max_steps: "ten" })).rejects.toMatchObject(bad("task.max_steps"));
    await expect(reset({ room_fixed: undefined, room_state: undefined, dim_room: [3, 3] })).rejects.toMatchObject(bad("no solvable room of 3x3"));
  });
});

describe("grl_sokoban on NeMo Gym's HTTP face (/reset, /step)", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    const host = createResourcesHost(grlSokoban);
    server = http.createServer(nemoGymGymnasiumRoutes(localClient(EpisodeService, host.episodes), "sokoban"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const post = async (route: string, body: unknown, cookie?: string) => {
    const res = await fetch(base + route, { method: "POST", headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown>, cookie: res.headers.get("set-cookie")?.split(";")[0] };
  };
  const turn = (text: string) => ({ id: "r", object: "response", model: "m", output: [{ id: "m", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] }] });

  it("answers in 0.7.0's shapes; a step without a reset plays on a fresh room of the row (README: deviation)", async () => {
    const reset = await post("/reset", rows[0]);
    expect(reset.json).toEqual({ observation: formatObservation("#####\n#O__#\n#_X_#\n#_P_#\n#####"), info: {} });
    const step = await post("/step", { ...rows[0], response: turn("<action>Up</action>") }, reset.cookie);
    expect(step.json).toMatchObject({ reward: -0.1, terminated: false, truncated: false, info: { action_id: 1, action_label: "Up", success: false } });
    const orphan = await post("/step", { ...rows[0], response: turn("<action>Up</action>") });
    expect(orphan.json).toMatchObject({ reward: -0.1, observation: formatObservation("#####\n#OX_#\n#_P_#\n#___#\n#####") });
  });
});

describe("grl_sokoban settings (NeMo Gym's env_config)", () => {
  it("take integer-keyed lookups: glyphs and the labels moves are read by", async () => {
    const settings = { env_config: { grid_lookup: { 0: "█", 1: ".", 2: "o", 3: "*", 4: "B", 5: "@", 6: "+" }, action_lookup: { 1: "North", 2: "South", 3: "West", 4: "East", 7: "Left" } } };
    const { episodes: custom } = hostClients(grlSokoban, settings);
    const task = taskFromJson({ ...rows[0], dim_room: [5, 5] });
    const { episodeId, observation } = await custom.reset({ task });
    expect(observation).toContain("█████\n█o..█\n█.B.█\n█.@.█\n█████");
    // "left" maps to id 7: gym-sokoban's move-only left.
    const s = await custom.step({ episodeId, task, response: answer("<action>Left</action>") });
    expect(JSON.parse(s.infoJson)).toMatchObject({ action_id: 7, action_label: "Left", action_is_effective: true });
    // "up" is no label here.
    await expect(custom.step({ episodeId, task, response: answer("Up") })).rejects.toMatchObject({ rawMessage: expect.stringContaining("Invalid action identifier: Up") });
  });

  it("refuse what cannot be served", () => {
    expect(() => environmentSettings(grlSokoban, { env_config: { render_mode: "rgb_array" } })).toThrow();
    expect(() => environmentSettings(grlSokoban, { env_config: { grid_lookup: { wall: "#" } } })).toThrow(/integers/);
    expect(() => environmentSettings(grlSokoban, { max_steps: 3 })).toThrow();
  });
});

describe("grl_sokoban through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  let scripted: EnvironmentMesh;
  beforeAll(async () => {
    // The mock model replays the rollouts a real model recorded on NeMo Gym: a replayed turn is answered
    // only if our observations are the ones the recorded model saw, byte for byte.
    env = await startEnvironmentMesh("grl_sokoban", { replay: [path.join(DATA, "example_rollouts.jsonl")] });
    scripted = await startEnvironmentMesh("grl_sokoban");
  });
  afterAll(async () => {
    await env?.close();
    await scripted?.close();
  });

  it("plays level 1 to success: the board joins the input, each next board the conversation", async () => {
    const agent = env.agent("grl_sokoban_gymnasium_agent");
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    expect(rollout!.verdict!.reward).toBeCloseTo(10, 9);
    expect(verdictFields(rollout!.verdict)).toMatchObject({ terminated: true, truncated: false, info: { success: true, total_reward: 10 } });
    const output = rollout!.response!.output;
    const roles = output.map((i) => (i.kind.case === "message" ? roleName(i.kind.value.role) : i.kind.case));
    expect(roles.filter((r) => r === "assistant")).toHaveLength(rollout!.steps);
    // Every turn but the last is followed by the next board; the last (terminated) is not.
    expect(roles.at(-1)).toBe("assistant");
    expect(roles.filter((r) => r === "user")).toHaveLength(rollout!.steps - 1);
    // The first board is in the request as it ran (NeMo Gym's responses_create_params), after the row's input.
    const ran = verdictFields(rollout!.verdict).responses_create_params as { input: { role: string; content: string }[] };
    expect(ran.input.map((m) => m.role)).toEqual(["system", "user", "user"]);
    expect(ran.input[2]!.content).toBe(formatObservation("#####\n#O__#\n#_X_#\n#_P_#\n#####"));
  });

  it("plays level 2 without solving it: 20 turns, truncated by the agent, -0.1 each", async () => {
    const agent = env.agent("grl_sokoban_gymnasium_agent");
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(rows[1]) } });
    expect(rollout!.steps).toBe(20);
    expect(rollout!.verdict!.reward).toBe(-2.0000000000000004);
    expect(verdictFields(rollout!.verdict)).toMatchObject({ terminated: false, truncated: true, info: { success: false } });
  });

  it("fails the rollout when the model names no move (the stand-in answers 'Hello from the mock model.')", async () => {
    const agent = scripted.agent("grl_sokoban_gymnasium_agent");
    await expect(agent.run({ input: { case: "task", value: taskFromJson(rows[0]) } })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("Unable to parse action from response: 'Hello from the mock model.'"),
    });
  });
});
