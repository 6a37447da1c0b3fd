// The authoring commands as a user runs them: gym envs, gym check-data and
// gym new-env (in a copy of the project, whose new environment must pass its
// own test and verifier cases at once).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run } from "../../testing/helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gym-authoring-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("gym envs", () => {
  it("lists every environment with its kind and tools", async () => {
    const { code, stdout } = await run("node", ["bin/gym.js", "envs"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^example_session_state_mgmt\s+tools\s+/m);
    expect(stdout).toContain("  increment_counter(count: integer)\n  get_counter_value()");
    expect(stdout).toContain("  extract_synonym_values(synonym_values: integer[])");
    expect(stdout).toMatch(/^example_multi_turn_gymnasium\s+multi-turn\s+/m);
    expect(stdout).toMatch(/^mcqa\s+tools\s+.*\n  settings: grading_mode\?: "strict_single_letter_boxed" \| .*"lenient_answer_colon_md"/m);
  });
});

describe("gym agents", () => {
  it("lists every agent kind of the config schema, with what it drives", async () => {
    const { code, stdout } = await run("node", ["bin/gym.js", "agents"]);
    expect(code).toBe(0);
    const names = stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(["simple_agent", "non_executing_simple_agent", "tool_simulation_agent", "gymnasium_agent"]);
    expect(stdout).toMatch(/^gymnasium_agent\s+multi-turn\s+\S/m);
  });
});

describe("gym check-data", () => {
  it("passes a good dataset", async () => {
    const { code, stdout } = await run("node", [
      "bin/gym.js", "check-data", "--env", "example_session_state_mgmt", "services/environments/example_session_state_mgmt/data/example.jsonl",
    ]);
    expect(stdout).toContain("5/5 rows fit example_session_state_mgmt");
    expect(code).toBe(0);
  });

  it("reports each bad row by line number with the reason", async () => {
    const good = fs.readFileSync(path.join(ROOT, "services/environments/example_session_state_mgmt/data/example.jsonl"), "utf8").split("\n")[0]!;
    const row = JSON.parse(good);
    const { initial_count: _drop, ...noInitial } = row;
    const otherTool = structuredClone(row);
    otherTool.responses_create_params.tools[0].name = "decrement_counter";
    const file = path.join(tmp, "data.jsonl");
    fs.writeFileSync(
      file,
      [good, "{oops", JSON.stringify({ expected_count: 1 }), "", JSON.stringify(noInitial), JSON.stringify({ ...row, expected_count: "six" }), JSON.stringify(otherTool)].join("\n") + "\n",
    );
    const { code, stdout } = await run("node", ["bin/gym.js", "check-data", "--env", "example_session_state_mgmt", file]);
    expect(code).toBe(1);
    expect(stdout).toContain(`${file}:2: not valid JSON`);
    expect(stdout).toContain(`${file}:3: responses_create_params: a task row needs "responses_create_params"`);
    expect(stdout).toMatch(new RegExp(`${file}:5: initial_count: `));
    expect(stdout).toMatch(new RegExp(`${file}:6: expected_count: `));
    expect(stdout).toContain(`${file}:7: responses_create_params.tools[0]: example_session_state_mgmt has no tool "decrement_counter"`);
    expect(stdout).not.toContain(`${file}:1:`);
    expect(stdout).toContain("1/6 rows fit example_session_state_mgmt");
  });

  it("names an unknown environment", async () => {
    const { code, stderr } = await run("node", ["bin/gym.js", "check-data", "--env", "nope", "x.jsonl"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown environment "nope"');
  });
});

describe("gym new-env", () => {
  // A copy of the project (sources, config, generated code; node_modules linked).
  const copy = path.join(tmp, "project");
  for (const entry of ["bin", "config", "gen", "services", "test", "testing", "package.json", "tsconfig.json", "vitest.config.ts"]) {
    fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));

  it("scaffolds an environment that is found by folder, served, and passes its test and verifier cases", { timeout: 120_000 }, async () => {
    const made = await run(process.execPath, [path.join(copy, "bin/gym.js"), "new-env", "trivia_lookup"]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const dir = path.join(copy, "services/environments/trivia_lookup");
    for (const file of ["environment.ts", "environment.test.ts", "README.md", "data/example.jsonl", "data/verify_cases.jsonl"]) {
      expect(fs.existsSync(path.join(dir, file)), file).toBe(true);
    }
    const envs = await run(process.execPath, [path.join(copy, "bin/gym.js"), "envs"]);
    expect(envs.stdout).toMatch(/^trivia_lookup\s+tools\s+.*\n\s+lookup\(question: string\)/m);
    // Nothing but the new folder and the config changed: the registry finds the folder by itself.
    expect(fs.readFileSync(path.join(copy, "services/environments/index.ts"), "utf8")).toBe(fs.readFileSync(path.join(ROOT, "services/environments/index.ts"), "utf8"));
    const config = fs.readFileSync(path.join(copy, "config/environments.yaml"), "utf8");
    expect(config).toMatch(/trivia_lookup_simple_agent:\n\s+kind: agent/);

    const again = await run(process.execPath, [path.join(copy, "bin/gym.js"), "new-env", "trivia_lookup"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");

    const tests = await runIn(copy, ["node_modules/.bin/vitest", "run", "services/environments/trivia_lookup", "services/environments/verify-cases.test.ts", "-t", "trivia_lookup"]);
    expect(tests.stdout + tests.stderr).toMatch(/Tests\s+\d+ passed/);
    expect(tests.code).toBe(0);
  });
});

/** Runs node with these arguments in another folder. */
function runIn(cwd: string, args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, GYM_LOG: "off", NO_COLOR: "1", FORCE_COLOR: "0" }, timeout: 110_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
