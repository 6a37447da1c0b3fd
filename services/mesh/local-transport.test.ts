// The in-process transport's handoff: a request is the handler's own copy
// (its changes stay on its side, the caller's later changes do not reach it),
// made without reflection; a response is handed to the caller as the handler
// made it, not copied.
import { clone, create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AgentService, RunRequestSchema, RunStreamResponseSchema, type RunRequest } from "../../gen/gymmesh/v1/agent_pb.js";
import { CreateResponseResponseSchema, ModelService, type CreateResponseResponse } from "../../gen/gymmesh/v1/model_pb.js";
import { ResponseCreateParamsSchema, ResponseSchema } from "../../gen/gymmesh/v1/responses_pb.js";
import { CollectRequestSchema } from "../../gen/gymmesh/v1/rollout_pb.js";
import { RolloutSchema, TaskSchema } from "../../gen/gymmesh/v1/task_pb.js";
import { paramsFromJson, responseFromJson, taskFromJson } from "../openai/responses-json.js";
import { copyMessage, localClient } from "./local-transport.js";

const ROW = {
  responses_create_params: {
    input: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "input_text", text: "Weather in SF?" }] },
      { type: "function_call", call_id: "c1", name: "get_weather", arguments: '{"city": "SF"}' },
      { type: "function_call_output", call_id: "c1", output: '{"temp": 60}' },
    ],
    tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: true }],
    temperature: 0.5,
    metadata: { a: "b" },
  },
  expected: { nested: [1, 2.5, null, { x: true }] },
  task_index: 3,
};

const ANSWER = responseFromJson({
  id: "r1",
  output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "Sunny.", annotations: [] }] }],
  usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
});

describe("copyMessage", () => {
  it("copies as protobuf-es's clone does, deeply, with no shared object", () => {
    const task = taskFromJson(ROW);
    const rollout = create(RolloutSchema, {
      rolloutId: "x",
      task,
      response: ANSWER,
      steps: 2,
      timings: { total: create(DurationSchema, { seconds: 12n, nanos: 5 }) },
    });
    for (const [schema, message] of [
      [TaskSchema, task],
      [RolloutSchema, rollout],
      [CollectRequestSchema, create(CollectRequestSchema, { taskId: "7", input: { case: "task", value: task } })],
      [TimestampSchema, create(TimestampSchema, { seconds: -3n, nanos: 1 })],
    ] as const) {
      const copy = copyMessage(schema as never, message as never);
      expect(copy).toEqual(clone(schema as never, message as never));
      expect(equals(schema as never, copy, message as never)).toBe(true);
      expect(toBinary(schema as never, copy)).toEqual(toBinary(schema as never, message as never));
      // No object of the original is in the copy.
      const originals = new Set<object>();
      const walk = (v: unknown, into: (o: object) => void) => {
        if (typeof v !== "object" || v === null) return;
        into(v);
        for (const child of Object.values(v)) walk(child, into);
      };
      walk(message, (o) => originals.add(o));
      walk(copy, (o) => expect(originals.has(o)).toBe(false));
    }
  });

  it("keeps unknown fields and optional fields left unset", () => {
    const withUnknown = fromBinary(TaskSchema, new Uint8Array([...toBinary(TaskSchema, taskFromJson(ROW)), 0xf8, 0x3f, 0x01])); // field 1023, varint 1
    const copy = copyMessage(TaskSchema, withUnknown);
    expect(copy.$unknown).toEqual(withUnknown.$unknown);
    expect(copy.$unknown).not.toBe(withUnknown.$unknown);
    expect(toBinary(TaskSchema, copy)).toEqual(toBinary(TaskSchema, withUnknown));
    const params = paramsFromJson({ input: "hi", temperature: 0 });
    const unset = paramsFromJson({ input: "hi" });
    expect("temperature" in unset).toBe(false);
    expect("temperature" in copyMessage(ResponseCreateParamsSchema, unset)).toBe(false);
    expect(copyMessage(ResponseCreateParamsSchema, params).temperature).toBe(0);
  });

  it("falls back to clone for a message that is not a plain object", () => {
    const task = taskFromJson(ROW);
    const odd = Object.assign(Object.create({ inherited: 1 }) as object, task) as typeof task;
    const copy = copyMessage(TaskSchema, odd);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(equals(TaskSchema, copy, task)).toBe(true);
  });
});

describe("the in-process handoff", () => {
  it("gives the handler its own copy of a message request: its changes stay on its side, and the caller's later ones do not reach it", async () => {
    let release!: () => void;
    const go = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const client = localClient(AgentService, {
      async run(req: RunRequest) {
        const task = req.input.case === "task" ? req.input.value : undefined;
        await go;
        seen.push(task!.responsesCreateParams!.input.case === "inputItems" ? String(task!.responsesCreateParams!.input.value.items.length) : "?");
        seen.push(task!.extraJson);
        // The handler changes its request, deep down.
        task!.extraJson = "changed by the handler";
        if (task!.responsesCreateParams!.input.case === "inputItems") task!.responsesCreateParams!.input.value.items.length = 0;
        return {};
      },
    });
    const task = taskFromJson(ROW);
    const before = toBinary(TaskSchema, task);
    const request = create(RunRequestSchema, { input: { case: "task", value: task }, rolloutId: "r" });
    const call = client.run(request);
    // The caller changes its request while the call runs.
    await Promise.resolve();
    task.extraJson = "changed by the caller";
    if (task.responsesCreateParams!.input.case === "inputItems") task.responsesCreateParams!.input.value.items.pop();
    release();
    await call;
    expect(seen).toEqual(["4", taskFromJson(ROW).extraJson]);
    expect(seen[1]).toContain("expected");
    // Only the caller's own change is on its side.
    expect(task.extraJson).toBe("changed by the caller");
    expect(task.responsesCreateParams!.input.case === "inputItems" && task.responsesCreateParams!.input.value.items.length).toBe(3);
    expect(before).toEqual(toBinary(TaskSchema, taskFromJson(ROW)));
  });

  it("hands a unary response over as the handler made it, with no copy", async () => {
    let made: CreateResponseResponse | undefined;
    const client = localClient(ModelService, {
      createResponse() {
        made = create(CreateResponseResponseSchema, { response: clone(ResponseSchema, ANSWER) });
        return made;
      },
    });
    const got = await client.createResponse({});
    expect(got).toBe(made);
    expect(got.response?.output).toHaveLength(1);
  });

  it("hands streamed responses over as the handler made them, with no copy", async () => {
    const made: object[] = [];
    const client = localClient(AgentService, {
      async *runStream() {
        for (let i = 0; i < 3; i++) {
          const m = create(RunStreamResponseSchema, { event: { case: "item", value: { kind: { case: "message", value: { content: { case: "text", value: `m${i}` } } } } } });
          made.push(m);
          yield m;
        }
      },
    });
    const got: object[] = [];
    for await (const m of client.runStream({})) got.push(m);
    expect(got).toHaveLength(3);
    got.forEach((m, i) => expect(m).toBe(made[i]));
  });
});
