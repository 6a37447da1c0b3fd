// The production build: scripts/build.mjs (npm run build) compiles services/
// and gen/ to JavaScript, and bin/gym.js runs that build when it is at least as
// new as the sources, the sources (through tsx) when one is newer or when
// GYM_FROM_SOURCES=1, and the build alone where no sources ship (the image).
// Checked in a scratch install: the real build, bin/gym.js, config/ and
// package.json, with a stand-in sources entry that says it ran.
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../testing/helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gym-build-"));
const GYM = path.join(tmp, "bin/gym.js");
const SOURCES_ENTRY = path.join(tmp, "services/cli/main.ts");

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [GYM, ...args], { cwd: tmp, env: { ...process.env, GYM_LOG: "off", GYM_FROM_SOURCES: "", ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Sets a file's modification time `offsetS` seconds from the build's. */
function touchRelativeToBuild(file: string, offsetS: number): void {
  const built = fs.statSync(path.join(tmp, "dist/build-info.json")).mtime.getTime() / 1000;
  fs.utimesSync(file, built + offsetS, built + offsetS);
}

beforeAll(async () => {
  const built = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts/build.mjs"), path.join(tmp, "dist")], { stdio: "inherit" });
    child.on("exit", (code) => resolve(code ?? 1));
  });
  expect(built).toBe(0);
  for (const dir of ["bin", "config"]) fs.cpSync(path.join(ROOT, dir), path.join(tmp, dir), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "package.json"), path.join(tmp, "package.json"));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(tmp, "node_modules"));
  fs.mkdirSync(path.dirname(SOURCES_ENTRY), { recursive: true });
  fs.mkdirSync(path.join(tmp, "gen"));
  fs.writeFileSync(SOURCES_ENTRY, 'const from: string = "the sources";\nconsole.log(from);\n');
}, 180_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("the production build", () => {
  it("compiles every production module and no test", () => {
    const compiled = fs.readdirSync(path.join(tmp, "dist"), { recursive: true }).map(String);
    expect(compiled).toContain(path.join("services", "cli", "main.js"));
    expect(compiled).toContain(path.join("services", "environments", "mcqa", "environment.js"));
    expect(compiled).toContain(path.join("gen", "gymmesh", "v1", "rollout_pb.js"));
    expect(compiled.filter((f) => f.endsWith(".ts") || f.includes(".test."))).toEqual([]);
  });

  it("runs the build when it is as new as the sources", async () => {
    touchRelativeToBuild(SOURCES_ENTRY, -60);
    const agents = await run(["agents"]);
    expect(agents.code, agents.stderr).toBe(0);
    expect(agents.stdout).toContain("simple_agent");
  });

  it("runs the sources when one is newer than the build, or when asked to", async () => {
    touchRelativeToBuild(SOURCES_ENTRY, 60);
    expect((await run(["agents"])).stdout.trim()).toBe("the sources");
    touchRelativeToBuild(SOURCES_ENTRY, -60);
    expect((await run(["agents"], { GYM_FROM_SOURCES: "1" })).stdout.trim()).toBe("the sources");
  });

  it("serves from the build alone where no sources ship, and finds config/ beside it", async () => {
    fs.rmSync(path.join(tmp, "services"), { recursive: true });
    fs.rmSync(path.join(tmp, "gen"), { recursive: true });
    const envs = await run(["envs"]);
    expect(envs.code, envs.stderr).toBe(0);
    expect(envs.stdout).toContain("structured_outputs");
    const child = spawn(process.execPath, [GYM, "serve", "--only", "example_single_tool_call"], { cwd: tmp, env: { ...process.env, GYM_LOG: "off" } });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "ready" within 30 s: ${out}`)), 30_000);
      child.stdout.on("data", () => /^ready$/m.test(out) && (clearTimeout(timer), resolve()));
    });
    expect(out).toMatch(/example_single_tool_call\s+gymmesh\.v1\.ResourcesService\s+http:\/\/127\.0\.0\.1:\d+/);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
