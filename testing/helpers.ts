// Shared helpers for the integration tests: a real mesh on loopback ports.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { JsonObject } from "@bufbuild/protobuf";
import { setQuiet } from "../services/mesh/log.js";
import { loadConfig } from "../services/app/config.js";
import { startMesh, type RunningMesh } from "../services/app/start.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const EXAMPLE_DATA = `${ROOT}services/environments/example_single_tool_call/data/example.jsonl`;
export const BUF = `${ROOT}node_modules/.bin/buf`;

export function readJsonl(file: string): JsonObject[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonObject);
}

/** The default mesh (mock model), in this process. */
export async function startDefaultMesh(): Promise<RunningMesh> {
  setQuiet(true);
  return startMesh(loadConfig(undefined, {}));
}

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in the repository, bounded by `timeoutMs`; never throws (a timeout says so in stderr). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env: { ...process.env, GYM_LOG: "off", ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr + (err && typeof err.code !== "number" ? err.message : "") });
    });
  });
}
