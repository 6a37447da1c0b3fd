// The npm package as another Node project gets it: `npm pack` (which builds
// lib/ through prepack), `npm install <tarball>` into a scratch project, then
// a TypeScript script there, type-checked against the package's .d.ts and run
// as compiled JavaScript, imports createGymClient from "gym-mesh" and runs
// rollouts against a mesh this test started. Slow (a real install): one test.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMesh } from "../services/app/start.js";
import { EXAMPLE_DATA, ROOT, startDefaultMesh } from "../testing/helpers.js";

const AGENT = "example_single_tool_call_simple_agent";
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");
const NPM_ENV = { npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", npm_config_loglevel: "error" };

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, bounded by `timeoutMs`; never throws. */
function exec(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...NPM_ENV, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr + (err && typeof err.code !== "number" ? `\n${err.message}` : "") });
    });
  });
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** The scratch project's script: what a user of the package writes. */
const SCRIPT = `
import { readFileSync } from "node:fs";
import { AgentService, createGymClient, Code, GymError, type CollectResult, type GymClient, type Rollout } from "gym-mesh";

const [agentUrl, rolloutUrl, dataFile] = process.argv.slice(2) as [string, string, string];
const rows = readFileSync(dataFile, "utf8").split("\\n").filter((l) => l.trim()).slice(0, 2);

const agent: GymClient = createGymClient(agentUrl, { timeoutMs: 30_000 });
const result = await agent.run(JSON.parse(rows[0]!) as Record<string, unknown>);
const rollout: Rollout = result.rollout;
const steps: number = rollout.steps;
// @ts-expect-error run() takes a row or a Task, not a number
if (false) await agent.run(42);

const collector = createGymClient(rolloutUrl, { timeoutMs: 30_000 });
const seen: string[] = [];
for await (const r of collector.collect(rows, { repeats: 2, maxInFlight: 2 })) {
  const done: CollectResult = r;
  seen.push(\`\${done.index}/\${done.repeat}:\${done.ok ? done.line?.reward : done.error?.codeName}\`);
}

let badUrl = "";
try {
  createGymClient("localhost:1");
} catch (err) {
  badUrl = (err as Error).name;
}
const wrong = await agent.collect(rows).next().catch((err: unknown) => err);
const wrongCode = wrong instanceof GymError ? Code[wrong.code] : String(wrong);

agent.close();
collector.close();
console.log(JSON.stringify({ reward: result.reward, lineReward: result.line.reward, steps, service: AgentService.typeName, seen: seen.sort(), badUrl, wrongCode }));
`;

describe("the npm package", () => {
  let mesh: RunningMesh;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gym-package-"));
  beforeAll(async () => {
    mesh = await startDefaultMesh();
  });
  afterAll(async () => {
    await mesh?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(
    "packs, installs into a scratch project, type-checks and runs a rollout from compiled JavaScript",
    async () => {
      // npm pack: prepack builds lib/; the tarball holds the client and what it needs, no server.
      const packed = await exec(npm, ["pack", "--json", "--pack-destination", tmp], ROOT, 180_000);
      expect(packed.code, packed.stderr).toBe(0);
      const [pack] = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
      const files = pack!.files.map((f) => f.path);
      expect(files).toContain("lib/services/client/index.js");
      expect(files).toContain("lib/services/client/index.d.ts");
      expect(files).toContain("lib/gen/gymmesh/v1/agent_pb.js");
      expect(files.filter((f) => /^lib\/services\/(app|environments|cli|agent|rollout|resources|model|collect)\//.test(f))).toEqual([]);
      expect(files.filter((f) => /\.test\.|^(services|gen|test|testing)\//.test(f))).toEqual([]);
      expect(pack!.size).toBeLessThan(200_000);
      const tarball = path.join(tmp, pack!.filename);

      // A scratch project that installs the tarball (its dependencies come from the registry, or npm's cache).
      const project = path.join(tmp, "scratch");
      fs.mkdirSync(project);
      expect((await exec(npm, ["init", "-y"], project, 60_000)).code).toBe(0);
      const installed = await exec(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project, 360_000);
      expect(installed.code, installed.stderr).toBe(0);
      expect(fs.existsSync(path.join(project, "node_modules/gym-mesh/lib/services/client/index.js"))).toBe(true);

      // The script, type-checked with the package's declarations and compiled to JavaScript.
      fs.writeFileSync(path.join(project, "main.mts"), SCRIPT);
      const tsconfig = {
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          skipLibCheck: false,
          outDir: "out",
          types: ["node"],
          typeRoots: [path.join(ROOT, "node_modules/@types")],
        },
        files: ["main.mts"],
      };
      fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
      const compiled = await exec(process.execPath, [TSC, "-p", project], project, 120_000);
      expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);

      // Run it: the http:// URL of the agent, the grpc:// URL of the rollout service.
      const agent = mesh.instances.find((i) => i.name === AGENT)!;
      const rollout = mesh.instances.find((i) => i.kind === "rollout")!;
      const ran = await exec(process.execPath, [path.join(project, "out/main.mjs"), agent.url, rollout.server.grpcUrl!, EXAMPLE_DATA], project, 90_000);
      expect(ran.code, ran.stderr).toBe(0);
      const printed = JSON.parse(ran.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
      expect(printed).toEqual({
        reward: 1,
        lineReward: 1,
        steps: 2,
        service: "gymmesh.v1.AgentService",
        seen: ["0/0:1", "0/1:1", "1/0:1", "1/1:1"],
        badUrl: "BadUrlError",
        wrongCode: "Unimplemented",
      });

      // The package's `gym` bin says what the package is instead of failing on missing sources.
      const bin = await exec(process.execPath, [path.join(project, "node_modules/gym-mesh/bin/gym.js"), "agents"], project, 30_000);
      expect(bin.code).toBe(2);
      expect(bin.stderr).toContain("the TypeScript client only");
    },
    600_000,
  );
});
