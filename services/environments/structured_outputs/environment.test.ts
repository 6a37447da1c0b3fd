import { Code, ConnectError } from "@connectrpc/connect";
import { localClient } from "../../mesh/local-transport.js";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import { responseFromJson, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { createResourcesService } from "../../resources/host.js";
import structuredOutputs, { gradeText, structuredOutputsSettings } from "./environment.js";
import type { StructuredOutputsRow } from "./row.js";

type Json = Record<string, any>;

const readJsonl = (name: string): Json[] =>
  fs
    .readFileSync(new URL(`./data/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const resources = localClient(ResourcesService, createResourcesService(structuredOutputs));

async function verify(row: Json, response: Json) {
  const { verdict } = await resources.verify({ task: taskFromJson(row), response: responseFromJson(response) });
  return { reward: verdict!.reward, extra: verdictFields(verdict) as Json };
}

function response(output: Json[]): Json {
  return { id: "resp_1", created_at: 1, model: "m", object: "response", output, parallel_tool_calls: false, tool_choice: "auto", tools: [] };
}
const message = (text: string): Json => ({ id: "msg_1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] });
const functionCall = (name: string, args: unknown): Json => ({ id: "fc_1", type: "function_call", call_id: "call_1", name, arguments: JSON.stringify(args), status: "completed" });

/** A value that satisfies a (strictified) schema: every property present, the first listed type. */
function sample(schema: Json, root: Json = schema): unknown {
  if (schema.$ref) return sample(schema.$ref.slice(2).split("/").reduce((s: Json, k: string) => s[k], root), root);
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  for (const k of ["anyOf", "oneOf"]) if (schema[k]) return sample(schema[k][0], root);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== "null") ?? "null" : schema.type;
  switch (type) {
    case "object":
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, sample(s as Json, root)]));
    case "array":
      return Array.from({ length: schema.minItems ?? 1 }, () => sample(schema.items ?? {}, root));
    case "integer":
      return schema.minimum ?? 1;
    case "number":
      return schema.minimum ?? 1.5;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return "x".repeat(Math.max(1, schema.minLength ?? 1));
  }
}

describe("structured_outputs verify cases (data/verify_cases.jsonl)", () => {
  const cases = readJsonl("verify_cases.jsonl");

  it("covers a full reward, a zero reward and malformed input", () => {
    expect(cases.some((c) => c.reward === 1)).toBe(true);
    expect(cases.some((c) => c.reward === 0)).toBe(true);
    expect(cases.some((c) => typeof c.error === "string")).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const run = async () => verify(c.task, c.response);
      if (c.error !== undefined) {
        const err = await run().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err, "expected an error").toBeInstanceOf(Error);
        expect(err!.message).toContain(c.error);
        if (err instanceof ConnectError) expect(err.code).toBe(Code.InvalidArgument);
        return;
      }
      const { reward, extra } = await run();
      expect(reward).toBe(c.reward);
      if (c.expected_extra) expect(extra).toMatchObject(c.expected_extra);
      expect(extra.error_message === null).toBe(extra.error_type === null);
    });
  }
});

describe("structured_outputs tool-call rows (data/example.jsonl, v4)", () => {
  const rows = readJsonl("example.jsonl");

  /** The arguments a correct call sends: the payload, wrapped under tool_payload_key when the row has one. */
  const argumentsFor = (row: Json, payload: unknown) => (row.tool_payload_key ? { [row.tool_payload_key]: payload } : payload);

  it("rewards one call of the expected tool whose payload fits the schema", async () => {
    for (const row of rows) {
      expect(row.response_mode).toBe("tool_call");
      const payload = sample(JSON.parse(row.schema_str));
      const { reward, extra } = await verify(row, response([functionCall(row.tool_name, argumentsFor(row, payload))]));
      expect({ tool: row.tool_name, reward, error: extra.error_message }).toEqual({ tool: row.tool_name, reward: 1, error: null });
      expect(extra).toMatchObject({ schema_type: "json", response_mode: "tool_call", error_type: null });
    }
  });

  it("rejects a payload missing a property, a distractor tool and a missing wrapper", async () => {
    for (const row of rows) {
      const schema = JSON.parse(row.schema_str);
      const payload = sample(schema) as Json;
      const item = Array.isArray(payload) ? payload[0] : payload;
      delete item[Object.keys(item)[0]!];
      const missing = await verify(row, response([functionCall(row.tool_name, argumentsFor(row, payload))]));
      expect(missing.extra.error_type).toBe("validation_error");
      expect(missing.extra.error_message).toMatch(/^ValidationError: .* is a required property/);

      const distractor = row.responses_create_params.tools.find((t: Json) => t.name !== row.tool_name);
      if (distractor) {
        const wrong = await verify(row, response([functionCall(distractor.name, argumentsFor(row, sample(schema)))]));
        expect(wrong).toMatchObject({ reward: 0, extra: { error_type: "wrong_tool_name" } });
      }
      if (row.tool_payload_key) {
        const unwrapped = await verify(row, response([functionCall(row.tool_name, sample(schema))]));
        expect(unwrapped).toMatchObject({ reward: 0, extra: { error_type: "missing_tool_payload_key" } });
      }
    }
  });

  it("ignores the answer text in tool-call mode", async () => {
    const row = rows[0]!;
    expect(await verify(row, response([message(JSON.stringify(sample(JSON.parse(row.schema_str))))]))).toMatchObject({ reward: 0, extra: { error_type: "missing_tool_call" } });
  });
});

describe("structured_outputs text rows (data/structured_outputs_v3_example.jsonl)", () => {
  const rows = readJsonl("structured_outputs_v3_example.jsonl");

  it("parses the answer as the row's format: a JSON text of the sample passes as JSON and YAML only", async () => {
    expect(rows.map((r) => r.schema_type)).toEqual(["toml", "csv", "csv", "yaml", "json"]);
    // What NeMo Gym 0.7.0 gives for these texts (computed by running its verifier).
    const expected = [
      { reward: 0, error_type: "parse_error", prefix: "TOMLDecodeError: " },
      { reward: 0, error_type: "validation_error", prefix: "ValidationError: [] is not of type 'object'" },
      { reward: 0, error_type: "validation_error", prefix: "ValidationError: [] is not of type 'object'" },
      { reward: 1, error_type: null, prefix: null },
      { reward: 1, error_type: null, prefix: null },
    ];
    for (const [i, row] of rows.entries()) {
      const text = JSON.stringify(sample(JSON.parse(row.schema_str)));
      const { reward, extra } = await verify(row, response([message(text)]));
      const want = expected[i]!;
      expect({ reward, error_type: extra.error_type }).toEqual({ reward: want.reward, error_type: want.error_type });
      if (want.prefix) expect(extra.error_message).toMatch(new RegExp(`^${want.prefix.replace(/[[\]()]/g, "\\$&")}`));
    }
    const json = rows.find((r) => r.schema_type === "json")!;
    const fenced = `\`\`\`json\n${JSON.stringify(sample(JSON.parse(json.schema_str)))}\n\`\`\``;
    expect((await verify(json, response([message(fenced)]))).extra.error_type).toBe("parse_error");
  });
});

describe("structured_outputs settings: xml_coerce_types (NeMo Gym's server config)", () => {
  const schema = (age: string, tags: object) => JSON.stringify({ type: "object", properties: { p: { type: "object", properties: { age: { type: age }, tags } } } });
  const row = (schemaStr: string): StructuredOutputsRow => ({ schemaStr, schemaType: "xml", responseMode: "text", toolName: null, toolPayloadKey: null });
  const xml = "<p><age>30</age><tags><t>a</t></tags></p>";
  const arrayTags = { type: "array", items: { type: "string" } };

  it("defaults to on, as in NeMo Gym", () => {
    expect(structuredOutputsSettings.parse({})).toEqual({ xml_coerce_types: true });
    expect(structuredOutputsSettings.safeParse({ xml_coerce_type: false }).success).toBe(false);
  });

  // Rewards: NeMo Gym 0.7.0 with xml_coerce_types true / false (computed by running its verifier).
  it("coerces numbers and unwraps repeated children only when on", () => {
    expect(gradeText(row(schema("integer", arrayTags)), xml, { xml_coerce_types: true }).reward).toBe(1);
    const off = gradeText(row(schema("integer", arrayTags)), xml, { xml_coerce_types: false });
    expect(off).toMatchObject({ reward: 0, errorType: "validation_error" });
    expect(off.errorMessage).toMatch(/^ValidationError: \{'t': 'a'\} is not of type 'array'/);
    expect(gradeText(row(schema("string", { type: "object", properties: { t: { type: "string" } } })), xml, { xml_coerce_types: false }).reward).toBe(1);
  });
});

describe("structured_outputs against NeMo Gym's stored rollouts (data/example_rollouts.jsonl)", () => {
  const rollouts = readJsonl("example_rollouts.jsonl");

  it("rejects the rollouts' own rows: they carry no schema_str (collected for older tasks)", async () => {
    expect(rollouts).toHaveLength(5);
    for (const rollout of rollouts) {
      await expect(verify(rollout, rollout.response)).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("schema_str") });
    }
  });

  it("reproduces the stored rewards from the answer text alone, given an accept-all schema", async () => {
    // Their schemas live only in the prompts; with "{}" the verdict rests on extracting and parsing the text.
    for (const rollout of rollouts) {
      const { reward, extra } = await verify({ ...rollout, schema_str: "{}" }, rollout.response);
      expect(reward).toBe(rollout.reward);
      expect(extra.error_type).toBe(rollout.reward === 1 ? null : "parse_error");
    }
  });
});

describe("structured_outputs service surface", () => {
  it("offers no tools: in tool-call mode the call is the answer, never executed", async () => {
    expect((await resources.listTools({})).tools).toEqual([]);
  });

  it("checks rows against its task schema", () => {
    expect(structuredOutputs.taskSchema?.safeParse({ schema_str: "{}", num_turns: "3", parallel_tool_calls: "yes" }).success).toBe(true);
    expect(structuredOutputs.taskSchema?.safeParse({ schema_str: "{}", schema_type: null }).success).toBe(false);
  });

  it("refuses a schema pattern it cannot run with Python's semantics instead of guessing", async () => {
    const row = { responses_create_params: { input: [] }, schema_str: JSON.stringify({ type: "object", properties: { a: { type: "string", pattern: "(?>a)" } } }) };
    await expect(verify(row, response([message('{"a": "a"}')]))).rejects.toMatchObject({ code: Code.Unimplemented, rawMessage: expect.stringContaining("atomic group") });
  });
});
