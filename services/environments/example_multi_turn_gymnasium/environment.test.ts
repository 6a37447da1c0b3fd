import * as fs from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResponseSchema } from "../../../gen/gymmesh/v1/responses_pb.js";
import { responseFromJson, taskFromJson, verdictFields, roleName } from "../../openai/responses-json.js";
import { hostClients } from "../../resources/verify-cases.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import exampleMultiTurnGymnasium from "./environment.js";

const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const { resources, episodes } = hostClients(exampleMultiTurnGymnasium);
const answer = (text: string) =>
  responseFromJson({ id: "r", output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] }] });

describe("example_multi_turn_gymnasium Reset/Step", () => {
  it("replays the follow-ups, then scores the final turn and closes the episode", async () => {
    const task = taskFromJson(rows[1]); // one follow-up, expected "20"
    const { episodeId, observation } = await episodes.reset({ task });
    expect(observation).toBeUndefined();
    const first = await episodes.step({ episodeId, task, response: answer("120") });
    expect(first).toMatchObject({ observation: "Now divide that result by 6.", reward: 0, terminated: false, truncated: false });
    const last = await episodes.step({ episodeId, task, response: answer("That gives 20.") });
    expect(last).toMatchObject({ reward: 1, terminated: true, truncated: false });
    expect(last.observation).toBeUndefined();
    // The ended episode is gone.
    await expect(episodes.step({ episodeId, task, response: answer("20") })).rejects.toMatchObject({ code: Code.Aborted });
  });

  it("keeps concurrent episodes of the same task apart", async () => {
    const task = taskFromJson(rows[0]); // two follow-ups
    const [a, b] = await Promise.all([episodes.reset({ task }), episodes.reset({ task })]);
    await episodes.step({ episodeId: a.episodeId, task, response: answer("Paris") });
    await episodes.step({ episodeId: a.episodeId, task, response: answer("2 million") });
    const aLast = await episodes.step({ episodeId: a.episodeId, task, response: answer("Eiffel Tower") });
    const bFirst = await episodes.step({ episodeId: b.episodeId, task, response: answer("Eiffel Tower") });
    expect(aLast).toMatchObject({ reward: 1, terminated: true });
    expect(bFirst).toMatchObject({ reward: 0, terminated: false, observation: rows[0].follow_ups[0] });
  });

  it("has no Verify and no tools", async () => {
    const { tools } = await resources.listTools({});
    expect(tools).toEqual([]);
    await expect(resources.verify({ task: taskFromJson(rows[0]), response: create(ResponseSchema) })).rejects.toMatchObject({
      code: Code.FailedPrecondition,
    });
  });
});

describe("example_multi_turn_gymnasium through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    env = await startEnvironmentMesh("example_multi_turn_gymnasium");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model answers every turn with "Hello from the mock model."
  it("runs the conversation turn by turn and sums the step rewards", async () => {
    const agent = env.agent("example_multi_turn_gymnasium_agent");
    const row = rows[0]; // two follow-ups
    const hit = await agent.run({ input: { case: "task", value: taskFromJson({ ...row, expected_answer: "MOCK model" }) } });
    const rollout = hit.rollout!;
    expect(rollout.steps).toBe(3);
    const output = rollout.response!.output;
    expect(output.map((i) => (i.kind.case === "message" ? roleName(i.kind.value.role) : i.kind.case))).toEqual([
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    expect(output[1]!.kind.value).toMatchObject({ content: { case: "text", value: row.follow_ups[0] } });
    expect(rollout.verdict!.reward).toBe(1);
    expect(verdictFields(rollout.verdict)).toMatchObject({ terminated: true, truncated: false });

    const miss = await agent.run({ input: { case: "task", value: taskFromJson(row) } });
    expect(miss.rollout!.verdict!.reward).toBe(0);
    expect(verdictFields(miss.rollout!.verdict)).toMatchObject({ terminated: true, truncated: false });
  });

  it("truncates an episode that outlasts the agent's step limit", async () => {
    const agent = env.agent("example_multi_turn_gymnasium_agent"); // max_steps 10
    const row = { ...rows[0], follow_ups: Array.from({ length: 12 }, (_, i) => `question ${i + 1}`), expected_answer: "mock" };
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(row) } });
    expect(rollout!.steps).toBe(10);
    expect(rollout!.verdict!.reward).toBe(0);
    expect(verdictFields(rollout!.verdict)).toMatchObject({ terminated: false, truncated: true });
  });
});
