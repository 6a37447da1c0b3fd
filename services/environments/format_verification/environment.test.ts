import * as fs from "node:fs";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourcesService } from "../../../gen/gymmesh/v1/resources_pb.js";
import { localClient } from "../../mesh/local-transport.js";
import { responseFromJson, taskFromJson, verdictFields } from "../../openai/responses-json.js";
import { createResourcesService } from "../../resources/host.js";
import { environmentSettings } from "../../resources/environment.js";
import type { EnvironmentMesh } from "../../../testing/environment-mesh.js";
import formatVerification, { verifyRegex, verifyStringMatch } from "./environment.js";

const resources = localClient(ResourcesService, createResourcesService(formatVerification));
const read = (file: string) =>
  fs
    .readFileSync(new URL(`./data/${file}`, import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const freeform = read("example.jsonl");
const citation = read("ds3_citation_format_example.jsonl");

function response(...texts: string[]) {
  return responseFromJson({
    id: "r",
    created_at: 0,
    model: "m",
    object: "response",
    output: [{ type: "message", id: "m", role: "assistant", status: "completed", content: texts.map((text) => ({ type: "output_text", text, annotations: [] })) }],
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
  });
}

async function verify(verifier: unknown, ...texts: string[]) {
  const { verdict } = await resources.verify({ task: taskFromJson({ responses_create_params: { input: "x" }, verifier }), response: response(...texts) });
  return { reward: verdict!.reward, details: verdictFields(verdict).match_details };
}

describe("format_verification: regex lines (freeform_formatting)", () => {
  it("counts lines any pattern finds, each once, against verify_min_matches", async () => {
    expect(await verify(freeform[2].verifier, "Intro\n-- a\n-- b\n-- c")).toEqual({ reward: 1, details: { matching_lines: 3, min_matches: 3, passed: true } });
    expect(await verify(freeform[2].verifier, "-- a\n-- b\n- c")).toEqual({ reward: 0, details: { matching_lines: 2, min_matches: 3, passed: false } });
    expect(verifyRegex("- a\n- b", { verify_regex: ["^- ", "\\w$"], verify_min_matches: 2 }).details.matching_lines).toBe(2);
  });

  it("defaults as the release's .get does, and compares as Python", () => {
    expect(verifyRegex("# T", { verify_regex: ["^# "] }).details).toEqual({ matching_lines: 1, min_matches: 1, passed: true });
    expect(verifyRegex("", { verify_regex: ["^$"] }).details.matching_lines).toBe(1); // ''.split('\n') == ['']
    expect(verifyRegex("- a\n- b", { verify_regex: ["^- "], verify_min_matches: 2.5 }).reward).toBe(0);
    expect(verifyRegex("- a", { verify_regex: ["^- "], verify_min_matches: true }).reward).toBe(1);
    expect(verifyRegex("a-b\nx", { verify_regex: "x-", verify_min_matches: 2 }).details.matching_lines).toBe(2); // a str iterates its characters
  });

  it("uses Python's re: Unicode \\d, '.' takes \\r, inline flags", () => {
    expect(verifyRegex("١. one\n٢. two", { verify_regex: ["^\\d+\\. "], verify_min_matches: 2 }).reward).toBe(1);
    expect(verifyRegex("- a\r\n- b\r\n", { verify_regex: ["^- .+$"], verify_min_matches: 2 }).reward).toBe(1);
    expect(verifyRegex("STEP 1\nStep 2", { verify_regex: ["(?i)^step \\d"], verify_min_matches: 2 }).reward).toBe(1);
  });

  it("joins the output_text parts of every message with nothing between", async () => {
    expect((await verify({ type: "regex", verify_regex: ["^-- .+"], verify_min_matches: 3 }, "-- a\n-- b\n--", " c")).reward).toBe(1);
  });
});

describe("format_verification: citation markers (citation_format)", () => {
  it("wants every expected marker and no other marker the patterns find", async () => {
    expect(await verify(citation[2].verifier, "A [web:3] B [web:5] C [web:6] D [web:7]")).toEqual({
      reward: 1,
      details: { expected: ["[web:3]", "[web:5]", "[web:6]", "[web:7]"], missing: [], spurious: [], passed: true },
    });
    expect((await verify(citation[4].verifier, "[web:1] [web:5]")).details).toMatchObject({ missing: ["[web:2]"], passed: false });
    const v = { expected_markers: ["[4]"], patterns: ["\\[\\d+\\]"] };
    expect(verifyStringMatch("[4] [1] x [1] [7]", v).details).toMatchObject({ spurious: ["[1]", "[1]", "[7]"], passed: false });
  });

  it("keeps Python's corners: empty matches, a str of markers, falsy patterns", () => {
    expect(verifyStringMatch("[1]", { expected_markers: ["[1]"], patterns: ["\\d*"] }).details.spurious).toEqual(["", "1", "", ""]);
    expect(verifyStringMatch("See [4].", { expected_markers: "[4]", patterns: ["\\[4\\]"] }).details).toMatchObject({ missing: [], spurious: ["[4]"] });
    expect(verifyStringMatch("[1] [2]", { expected_markers: ["[1]"], patterns: 0 }).reward).toBe(1);
    expect(verifyStringMatch("x <<<1>>> y", { expected_markers: ["<<1>>"], patterns: ["<<\\d+>>"] }).reward).toBe(1);
  });
});

describe("format_verification rows and settings", () => {
  it("refuses malformed verifiers with INVALID_ARGUMENT naming the field", async () => {
    const bad: [unknown, string][] = [
      [{ type: "json_schema" }, "task.verifier.type: Verifier type must be 'regex' or 'string_match', got 'json_schema'"],
      [{ verify_regex: ["x"] }, "got ''"],
      [{ type: "regex", verify_regex: ["(x"] }, "task.verifier.verify_regex: re.error"],
      [{ type: "regex", verify_regex: null }, "'NoneType' object is not iterable"],
      [{ type: "regex", verify_regex: [3] }, "first argument must be string or compiled pattern"],
      [{ type: "regex", verify_regex: ["x"], verify_min_matches: "3" }, "'>=' not supported between instances of 'int' and 'str'"],
      [{ type: "string_match", expected_markers: [1] }, "'in <string>' requires string as left operand, not int"],
      [{ type: "string_match", expected_markers: ["1"], patterns: 5 }, "task.verifier.patterns: 'int' object is not iterable"],
      [["regex"], "task.verifier"],
    ];
    for (const [verifier, message] of bad) {
      await expect(verify(verifier, "x"), JSON.stringify(verifier)).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining(message) });
    }
    await expect(resources.verify({ task: taskFromJson({ responses_create_params: { input: "x" } }), response: response("x") })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("takes the release configs' descriptive fields as settings, and refuses others", () => {
    expect(environmentSettings(formatVerification, { domain: "instruction_following", verified: false, description: "d", value: "v" })).toMatchObject({ verified: false });
    expect(() => environmentSettings(formatVerification, { verify_min_matches: 3 })).toThrow();
  });

  it("scores the release's stored rollouts as stored", async () => {
    for (const row of read("example_rollouts.jsonl")) {
      const { verdict } = await resources.verify({ task: taskFromJson(row), response: responseFromJson(row.response) });
      expect(verdict!.reward).toBe(row.reward);
      expect(verdictFields(verdict).match_details).toEqual(row.match_details);
    }
  });
});

describe("format_verification through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    const { startEnvironmentMesh } = await import("../../../testing/environment-mesh.js");
    env = await startEnvironmentMesh("format_verification");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model answers "Hello from the mock model." when offered no tools.
  it("runs a rollout under each config's agent", async () => {
    const lenient = structuredClone(freeform[0]);
    lenient.verifier = { type: "regex", verify_regex: ["mock model"], verify_min_matches: 1 };
    const ff = await env.agent("freeform_formatting_simple_agent").run({ input: { case: "task", value: taskFromJson(lenient) } });
    expect(ff.rollout!.response!.output.map((i) => i.kind.case)).toEqual(["message"]);
    expect(ff.rollout!.verdict!.reward).toBe(1);
    expect(verdictFields(ff.rollout!.verdict).match_details).toEqual({ matching_lines: 1, min_matches: 1, passed: true });

    const cf = await env.agent("citation_format_simple_agent").run({ input: { case: "task", value: taskFromJson(citation[0]) } });
    expect(cf.rollout!.verdict!.reward).toBe(0);
    expect(verdictFields(cf.rollout!.verdict).match_details).toMatchObject({ missing: ["[ref:2]"], passed: false });
  });
});
