// The ResourcesService host with small environments made for these tests.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { localClient } from "../mesh/local-transport.js";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { describe, expect, it } from "vitest";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { ResponseSchema } from "../../gen/gymmesh/v1/responses_pb.js";
import { responseFromJson, taskFromJson, verdictFields } from "../openai/responses-json.js";
import { z } from "zod";
import { defineEnvironment, defineTool, laxInt, taskFields, type Environment } from "./environment.js";
import { createResourcesHost, createResourcesService, type HostOptions } from "./host.js";
import { pyFloat } from "../pycompat/json-dumps.js";

const halveArgs = z.object({ n: laxInt() });
const env = defineEnvironment<{ log: number[] }>({
  name: "test_env",
  description: "for host tests",
  tools: [
    defineTool<{ log: number[] }, typeof halveArgs>({
      name: "halve",
      description: "n / 2 as Python writes a float",
      args: halveArgs,
      run: ({ n }, { state }) => {
        state.log.push(n);
        return { half: pyFloat(n / 2) };
      },
    }),
    defineTool({ name: "explode", description: "always fails", args: z.object({}), run: () => { throw new Error("boom"); } }),
  ],
  createState: () => ({ log: [] }),
  verify: ({ task, state }) => {
    const { target } = taskFields(task, z.object({ target: z.number() }));
    const sum = (state?.log ?? []).reduce((a, b) => a + b, 0);
    return { reward: sum === target ? 1 : 0, rewardComponents: { sum_ok: sum === target ? 1 : 0, calls: state?.log.length ?? 0 } };
  },
});

function client(options: HostOptions = {}, e: Environment<any> = env) {
  return localClient(ResourcesService, createResourcesService(e, options));
}
const task = taskFromJson({ responses_create_params: { input: "hi" }, target: 3 });
const response = create(ResponseSchema, {});

describe("ResourcesService host", () => {
  it("writes tool outputs as Python does, floats included", async () => {
    const c = client();
    const { sessionId } = await c.seedSession({ task });
    expect((await c.callTool({ sessionId, name: "halve", arguments: '{"n": -6}' })).output).toBe('{"half": -3.0}');
    expect((await c.callTool({ sessionId, name: "halve", arguments: '{"n": 1}' })).output).toBe('{"half": 0.5}');
  });

  it("turns a failing tool into INTERNAL naming the tool, and keeps serving", async () => {
    const c = client();
    const { sessionId } = await c.seedSession({ task });
    await expect(c.callTool({ sessionId, name: "explode", arguments: "{}" })).rejects.toMatchObject({
      code: Code.Internal,
      rawMessage: "tool explode failed: boom",
    });
    expect((await c.callTool({ sessionId, name: "halve", arguments: '{"n": 2}' })).output).toBe('{"half": 1.0}');
  });

  it("verifies with the session's state and writes reward components beside the reward", async () => {
    const c = client();
    const { sessionId } = await c.seedSession({ task });
    await c.callTool({ sessionId, name: "halve", arguments: '{"n": 1}' });
    await c.callTool({ sessionId, name: "halve", arguments: '{"n": "2"}' });
    const { verdict } = await c.verify({ sessionId, task, response });
    expect(verdict!.reward).toBe(1);
    expect(verdict!.rewardComponents).toEqual({ sum_ok: 1, calls: 2 });
    expect(verdictFields(verdict)).toMatchObject({ reward_components: { sum_ok: 1, calls: 2 } });
    await expect(c.verify({ sessionId, task: taskFromJson({ responses_create_params: { input: "hi" } }), response })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("task.target"),
    });
  });

  it("drops a closed session, and an idle one after the timeout", async () => {
    let now = 1_000;
    const c = client({ idleTimeoutMs: 60_000, now: () => now });
    const closed = (await c.seedSession({ task })).sessionId;
    await c.closeSession({ sessionId: closed });
    await expect(c.callTool({ sessionId: closed, name: "halve", arguments: '{"n": 1}' })).rejects.toMatchObject({ code: Code.Aborted });

    const busy = (await c.seedSession({ task })).sessionId;
    const idle = (await c.seedSession({ task })).sessionId;
    now += 40_000;
    await c.callTool({ sessionId: busy, name: "halve", arguments: '{"n": 1}' });
    now += 40_000; // idle: 80 s unused; busy: 40 s since its last call
    await c.callTool({ sessionId: busy, name: "halve", arguments: '{"n": 1}' });
    await expect(c.callTool({ sessionId: idle, name: "halve", arguments: '{"n": 1}' })).rejects.toMatchObject({
      code: Code.Aborted,
      rawMessage: expect.stringContaining("expired"),
    });
  });

  it("answers Reset and Step of an environment without step() with FAILED_PRECONDITION", async () => {
    const episodes = localClient(EpisodeService, createResourcesHost(env).episodes);
    await expect(episodes.reset({ task })).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await expect(episodes.step({ episodeId: "x", task, response })).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it("rejects a verifier's reward that is not a finite number", async () => {
    const bad = defineEnvironment({ name: "bad", description: "", tools: [], verify: () => ({ reward: Number.NaN }) });
    await expect(client({}, bad).verify({ task, response })).rejects.toMatchObject({ code: Code.Internal });
  });

  it("refuses output_text or refusal parts in a user, system or developer message (NeMo Gym 0.7.0's input message: 422)", async () => {
    const ok = defineEnvironment({ name: "ok", description: "", tools: [], verify: () => ({ reward: 1 }) });
    const c = client({}, ok);
    const message = (role: string, part: object) => responseFromJson({ id: "r", output: [{ type: "message", role, status: "completed", content: [part] }] });
    for (const role of ["user", "system", "developer"]) {
      await expect(c.verify({ task, response: message(role, { type: "output_text", text: "x", annotations: [] }) })).rejects.toMatchObject({
        code: Code.InvalidArgument,
        rawMessage: expect.stringContaining(`response.output[0].content[0]: a ${role} message holds input parts`),
      });
    }
    await expect(c.verify({ task, response: message("user", { type: "refusal", refusal: "no" }) })).rejects.toMatchObject({ code: Code.InvalidArgument });
    // What 0.7.0 accepts: input parts in a user message, output parts in an assistant one, plain text.
    expect((await c.verify({ task, response: message("user", { type: "input_text", text: "x" }) })).verdict!.reward).toBe(1);
    expect((await c.verify({ task, response: message("assistant", { type: "output_text", text: "x", annotations: [] }) })).verdict!.reward).toBe(1);
    const plain = responseFromJson({ id: "r", output: [{ role: "user", content: "text" }] });
    expect((await c.verify({ task, response: plain })).verdict!.reward).toBe(1);
  });

  it("starts every Reset from a fresh state, and refuses a Step whose response a NeMo Gym model would refuse", async () => {
    const counting = defineEnvironment<{ turns: number }>({
      name: "counting",
      description: "",
      tools: [],
      createState: () => ({ turns: 0 }),
      verify: () => ({ reward: 0 }),
      reset: ({ state }) => ({ observation: `turns ${state.turns}` }),
      step: ({ state }) => ({ reward: ++state.turns, terminated: false, truncated: false }),
    });
    const host = createResourcesHost(counting);
    const episodes = localClient(EpisodeService, host.episodes);
    const first = await episodes.reset({ task });
    await episodes.step({ episodeId: first.episodeId, task, response });
    const second = await episodes.reset({ task });
    expect(second.observation).toBe("turns 0");
    expect((await episodes.step({ episodeId: second.episodeId, task, response })).reward).toBe(1);
    const bad = responseFromJson({ id: "r", output: [{ type: "message", role: "user", content: [{ type: "output_text", text: "x" }] }] });
    await expect(episodes.step({ episodeId: second.episodeId, task, response: bad })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});
