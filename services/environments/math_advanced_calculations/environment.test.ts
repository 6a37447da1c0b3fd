import * as fs from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import { localClient } from "../../mesh/local-transport.js";
import { responseFromJson, taskFromJson } from "../../openai/responses-json.js";
import { createResourcesService } from "../../resources/host.js";
import type { EnvironmentMesh } from "../../../testing/environment-mesh.js";
import { floatPow, PyComplex, pydanticFloatJson } from "./calculator.js";
import mathAdvancedCalculations, { pydanticFloatString } from "./environment.js";
import * as libm from "./libm.js";

const resources = localClient(ResourcesService, createResourcesService(mathAdvancedCalculations));
const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));

async function call(name: string, args: unknown): Promise<string> {
  const { sessionId } = await resources.seedSession({ task: taskFromJson(rows[0]) });
  const text = typeof args === "string" ? args : JSON.stringify(args);
  return (await resources.callTool({ sessionId, name, arguments: text })).output;
}

function failure(name: string, args: unknown) {
  return call(name, args).then(
    (out) => {
      throw new Error(`expected ${name} to fail, got ${out}`);
    },
    (err) => err,
  );
}

function response(outputs: string[], text = "Done.") {
  return responseFromJson({
    id: "r",
    created_at: 0,
    model: "m",
    object: "response",
    output: [
      ...outputs.flatMap((output, i) => [
        { type: "function_call", call_id: `c${i}`, name: "add", arguments: "{}", id: `fc${i}`, status: "completed" },
        { type: "function_call_output", call_id: `c${i}`, output },
      ]),
      { type: "message", id: "m", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] },
    ],
    parallel_tool_calls: false,
    tool_choice: "auto",
    tools: [],
  });
}

async function reward(groundTruth: unknown, outputs: string[], extra: object = {}): Promise<number> {
  const task = taskFromJson({ ...rows[0], ground_truth: groundTruth, ...extra });
  const { verdict } = await resources.verify({ task, response: response(outputs) });
  return verdict!.reward;
}

describe("math_advanced_calculations tools", () => {
  it("computes the alternate universe's arithmetic", async () => {
    expect(await call("add", { a: 1, b: 3 })).toBe('{"solution":5.2}');
    expect(await call("subtract", { a: 15, b: 5 })).toBe('{"solution":7.0}');
    expect(await call("multiply", { a: 5, b: 2 })).toBe('{"solution":11.0}');
    expect(await call("divide", { a: 10, b: 2 })).toBe('{"solution":2.5}');
    expect(await call("power", { a: 2, b: 3 })).toBe('{"solution":32.0}');
    expect(await call("pi", {})).toBe('{"solution":2.718281828459045}');
    expect(await call("negate", { a: 7 })).toBe('{"solution":7.0}');
    expect(await call("return_constant", { a: 42 })).toBe('{"solution":42.0}');
    // sin is cos and cos is sin; log's base is |base + 1.5|.
    expect(await call("sin", { radians: 4 })).toBe('{"solution":-0.6536436208636119}');
    expect(await call("cos", { radians: 1 })).toBe('{"solution":0.8414709848078965}');
    expect(await call("log", { a: 100, base: 8.5 })).toBe('{"solution":2.0}');
  });

  it("gives the values of the release's example ground truths", async () => {
    // Row 0: (9.0 - 9.0), (1.0 / 1.0), (1.0 * 9.0), sin(5.0).
    const outs = [await call("subtract", { a: 9, b: 9 }), await call("divide", { a: 1, b: 1 }), await call("multiply", { a: 1, b: 9 }), await call("sin", { radians: 5 })];
    expect(outs.map((o) => JSON.parse(o).solution)).toEqual(JSON.parse(rows[0].ground_truth));
    expect(await reward(rows[0].ground_truth, outs)).toBe(1);
  });

  it("answers math errors with the release's exception text (HTTP 500 there)", async () => {
    const cases: [string, object, string][] = [
      ["divide", { a: 1, b: 0 }, "float division by zero"],
      ["log", { a: 0, base: 2 }, "math domain error"],
      ["log", { a: 2, base: -0.5 }, "float division by zero"], // log base 1
      ["power", { a: 10, b: 400 }, "(34, 'Numerical result out of range')"],
      ["power", { a: 0, b: -3 }, "0.0 cannot be raised to a negative power"],
      ["power", { a: -10, b: 400.5 }, "complex exponentiation"],
      ["sin", { radians: "inf" }, "math domain error"],
      ["multiply", { a: 1 }, "multiply() missing 1 required positional argument: 'b'"],
      ["log", {}, "log() missing 2 required positional arguments: 'a' and 'base'"],
      ["sin", { radians: 1, base: 2, a: 3 }, "sin() got an unexpected keyword argument 'a'"],
    ];
    for (const [tool, args, message] of cases) {
      expect(await failure(tool, args), `${tool} ${JSON.stringify(args)}`).toMatchObject({ code: Code.Internal, rawMessage: message });
    }
  });

  it("fails a complex power as the release's response model does", async () => {
    const err = await failure("power", { a: -8, b: -1.5 });
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe(
      "1 validation error for MultiVerseMathHardResponse\nsolution\n" +
        "  Input should be a valid number [type=float_type, input_value=(1.7319121124709868e-16+2.8284271247461903j), input_type=complex]\n" +
        "    For further information visit https://errors.pydantic.dev/2.14/v/float_type",
    );
    // pydantic-core shortens a repr longer than 50 characters.
    expect((await failure("power", { a: -1.2345678901234567e-100, b: -0.5 })).rawMessage).toContain(
      "input_value=(-2.5198493469436654e-166....3717420939643347e-150j),",
    );
    expect(new PyComplex(0, -0).repr()).toBe("-0j");
    expect(new PyComplex(-0, 0).repr()).toBe("(-0+0j)");
    expect(new PyComplex(5, 1e16).repr()).toBe("(5+1e+16j)");
  });

  it("answers an unknown operation with the release's 404 detail", async () => {
    expect(await failure("sqrt", { a: 4 })).toMatchObject({ code: Code.NotFound, rawMessage: "Function not found" });
  });

  it("reads arguments as pydantic floats and ignores unknown keys", async () => {
    expect(await call("multiply", { a: "3", b: true })).toBe('{"solution":3.3000000000000003}');
    expect(await call("add", { a: 1, b: 2, c: 3 })).toBe('{"solution":4.2}');
    expect(await failure("multiply", { a: null, b: 2 })).toMatchObject({ rawMessage: "multiply() missing 1 required positional argument: 'a'" });
    expect(await failure("multiply", { a: 1, b: "x" })).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("b: Input should be a valid number, unable to parse") });
    expect(await failure("multiply", { a: [1], b: 2 })).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("a: Input should be a valid number") });
    expect(await failure("add", "[1, 2]")).toMatchObject({ code: Code.InvalidArgument });
    expect(await failure("add", "{a: 1")).toMatchObject({ code: Code.InvalidArgument });
    expect(pydanticFloatString("1_000")).toBe(1000);
    expect(pydanticFloatString(" 1000\t")).toBe(1000);
    expect(pydanticFloatString("In_f")).toBe(Infinity);
    expect(pydanticFloatString(" 1_000")).toBeUndefined();
    expect(pydanticFloatString("1__0")).toBeUndefined();
    expect(pydanticFloatString("0x10")).toBeUndefined();
    expect(pydanticFloatString("٣")).toBeUndefined();
  });

  it("writes floats as pydantic-core does, infinities and NaN as null", async () => {
    expect(pydanticFloatJson(1e-5)).toBe("0.00001");
    expect(pydanticFloatJson(4.35e-5)).toBe("0.0000435");
    expect(pydanticFloatJson(1e-6)).toBe("1e-6");
    expect(pydanticFloatJson(1e15)).toBe("1000000000000000.0");
    expect(pydanticFloatJson(-1e16)).toBe("-1e+16");
    expect(pydanticFloatJson(1.7976931348623157e308)).toBe("1.7976931348623157e+308");
    expect(pydanticFloatJson(5e-324)).toBe("5e-324");
    expect(await call("negate", '{"a": -0.0}')).toBe('{"solution":-0.0}');
    expect(await call("multiply", { a: 1e308, b: 10 })).toBe('{"solution":null}');
    expect(await call("cos", { radians: "nan" })).toBe('{"solution":null}');
  });
});

describe("Python's float semantics", () => {
  it("float ** float as CPython's float_pow", () => {
    expect(floatPow(1, NaN)).toBe(1); // Math.pow gives NaN
    expect(floatPow(-1, Infinity)).toBe(1);
    expect(floatPow(Infinity, -3)).toBe(0);
    expect(Object.is(floatPow(-Infinity, -3), -0)).toBe(true);
    expect(floatPow(0, -Infinity)).toBe(Infinity);
    expect(floatPow(-8, 3)).toBe(-512);
    expect(floatPow(-2, 2.5)).toBeInstanceOf(PyComplex);
    expect(floatPow(10, -5)).toBe(1e-5); // V8's 10 ** -5 is 9.999999999999999e-6
    expect(floatPow(3, -675)).toBe(9e-323);
    expect(floatPow(134217727, 2)).toBe(18014398241046528); // an exact tie, to even
  });

  it("log, sin, cos and pow round to the nearest double, where V8 does not always", () => {
    // Python (glibc) values; V8's Math functions give the neighbouring double.
    expect(libm.log(1.4)).toBe(0.3364722366212129);
    expect(libm.cos(-16.3)).toBe(-0.8298057980706491);
    expect(libm.sin(-18)).toBe(0.750987246771676);
    expect(libm.pow(0.2351638350687646, 6)).toBe(0.0001691309952517895);
    expect(libm.cos(1e300)).toBe(-0.5753861119575491); // the sin tool is math.cos
    expect(libm.sin(1e-300)).toBe(1e-300);
    expect(libm.cos(1e-300)).toBe(1);
    // glibc itself misses the nearest double in rare cases (README): here Python gives ...209.
    expect(libm.cos(-25.778706600751345)).toBe(0.7985190145165207);
  });
});

describe("math_advanced_calculations verify", () => {
  it("rewards exact membership of every ground-truth value among the tool outputs", async () => {
    expect(await reward("[5.2, 7.0]", ['{"solution":5.2}', '{"solution":7.0}'])).toBe(1);
    expect(await reward("[5.2, 7.0]", ['{"solution":5.2}'])).toBe(0);
    expect(await reward("[0.30000000000000004]", ['{"solution":0.3}'])).toBe(0);
    expect(await reward("[2.718281828459045, 2.718281828459045]", ['{"solution":2.718281828459045}'])).toBe(1);
    expect(await reward("[3]", ['{"solution":3.0}'])).toBe(1);
    expect(await reward("[]", [])).toBe(1);
  });

  it("reads each output as float(json.loads(output)['solution']), None when that raises", async () => {
    expect(await reward("[5.2]", ['{"solution": "5.2"}'])).toBe(1);
    expect(await reward("[1.0]", ['{"solution": true}'])).toBe(1);
    expect(await reward("[5.2]", ["5.2"])).toBe(0);
    expect(await reward("[5.2]", ['{"detail":"Function not found"}'])).toBe(0);
    expect(await reward("[null]", ['{"detail":"float division by zero"}'])).toBe(1);
    expect(await reward("[NaN]", ['{"solution": NaN}'])).toBe(1); // json's one NaN object: `in` tests identity first
    expect(await reward("[NaN]", ['{"solution": "nan"}'])).toBe(0);
    expect(await reward("[Infinity]", ['{"solution": "inf"}'])).toBe(1);
  });

  it("does not read the answer text", async () => {
    const task = taskFromJson({ ...rows[0], ground_truth: "[5.2]" });
    expect((await resources.verify({ task, response: response([], "5.2") })).verdict!.reward).toBe(0);
    expect((await resources.verify({ task, response: create((await import("../../../gen/gymmesh/v1/responses_pb.js")).ResponseSchema, {}) })).verdict!.reward).toBe(0);
  });

  it("refuses malformed rows with INVALID_ARGUMENT naming the field", async () => {
    await expect(reward("[5.2", [])).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.ground_truth: not JSON") });
    await expect(reward([5.2], [])).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.ground_truth") });
    await expect(reward("5.2", [])).rejects.toMatchObject({ rawMessage: expect.stringContaining("'float' object is not iterable") });
    await expect(reward("[1]", [], { id: "x" })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("task.id") });
    expect(await reward("[1]", ['{"solution":1.0}'], { id: "7", breadth: true })).toBe(1);
  });
});

describe("math_advanced_calculations through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    const { startEnvironmentMesh } = await import("../../../testing/environment-mesh.js");
    env = await startEnvironmentMesh("math_advanced_calculations");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model calls the first offered tool with 1 for every number, then answers.
  it("runs a rollout: the tool's output is scored against the ground truth", async () => {
    const agent = env.agent("math_advanced_calculations_simple_agent");
    const divideFirst = structuredClone(rows[0]);
    const tools = divideFirst.responses_create_params.tools as { name: string }[];
    tools.unshift(...tools.splice(tools.findIndex((t) => t.name === "divide"), 1));
    divideFirst.ground_truth = "[0.5]";
    const { rollout } = await agent.run({ input: { case: "task", value: taskFromJson(divideFirst) } });
    const output = rollout!.response!.output;
    expect(output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
    expect(output[1]!.kind.value).toMatchObject({ output: '{"solution":0.5}' }); // 0.5 * 1 / 1
    expect(rollout!.verdict!.reward).toBe(1);

    // Row 0 as released: multiply(1, 1) is 1.1, none of its four values.
    const plain = await agent.run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    expect(plain.rollout!.response!.output[1]!.kind.value).toMatchObject({ output: '{"solution":1.1}' });
    expect(plain.rollout!.verdict!.reward).toBe(0);
  });

  // What NeMo Gym's own agent reads from a tool: the release's status and body, byte for byte.
  it("answers NeMo Gym's HTTP tool routes as the release does", async () => {
    const base = env.mesh.url("math_advanced_calculations");
    const seeded = await fetch(`${base}/seed_session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rows[0]) });
    const cookie = seeded.headers.get("set-cookie")!.split(";")[0]!;
    const post = async (path: string, body: object) => {
      const res = await fetch(`${base}/${path}`, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
      return [res.status, await res.text()];
    };
    expect(await post("add", { a: 1, b: 3 })).toEqual([200, '{"solution":5.2}']);
    expect(await post("divide", { a: 1, b: 0 })).toEqual([500, '{"detail":"float division by zero"}']);
    expect(await post("sqrt", { a: 4 })).toEqual([404, '{"detail":"Function not found"}']);
  });
});
