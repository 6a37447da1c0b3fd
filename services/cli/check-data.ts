// `gym check-data`: validates a JSONL dataset against an environment before a
// run, and reports every bad row by line number: rows that are not JSON or
// not task rows, rows whose own fields miss the environment's task schema or
// cannot start a session, and rows offering tools the environment lacks.
import * as fs from "node:fs";
import type { JsonObject } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { environments } from "../environments/index.js";
import { ConfigError } from "../mesh/errors.js";
import { JsonShapeError, taskFromJson, taskExtra } from "../openai/responses-json.js";
import { environmentSettings, type Environment } from "../resources/environment.js";

export interface RowProblem {
  line: number;
  message: string;
}

export interface CheckSummary {
  env: string;
  rows: number;
  problems: RowProblem[];
}

export function checkDataFile(envName: string, file: string): CheckSummary {
  const env = environments[envName];
  if (!env) throw new ConfigError(`--env: unknown environment "${envName}" (built in: ${Object.keys(environments).join(", ")})`);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  const problems: RowProblem[] = [];
  let rows = 0;
  text.split("\n").forEach((raw, i) => {
    if (!raw.trim()) return;
    rows++;
    for (const message of checkRow(env, raw)) problems.push({ line: i + 1, message });
  });
  return { env: env.name, rows, problems };
}

/** What is wrong with one dataset line (nothing when it is fine). */
export function checkRow(env: Environment<any>, raw: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return [`not valid JSON: ${(err as Error).message}`];
  }
  let task;
  try {
    task = taskFromJson(json);
  } catch (err) {
    if (err instanceof JsonShapeError) return [err.message];
    throw err;
  }
  const problems: string[] = [];
  if (env.taskSchema) {
    const parsed = env.taskSchema.safeParse(taskExtra(task));
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${issue.path.length ? issue.path.join(".") : "(row)"}: ${issue.message}`);
    }
  }
  if (problems.length === 0 && env.createState) {
    try {
      env.createState(task, environmentSettings(env));
    } catch (err) {
      problems.push(`cannot start a session: ${err instanceof ConnectError ? err.rawMessage : (err as Error).message}`);
    }
  }
  const own = new Set(env.tools.map((t) => t.name));
  const offered = ((json as JsonObject).responses_create_params as JsonObject).tools;
  if (Array.isArray(offered) && !env.simulatedTools) {
    offered.forEach((tool, i) => {
      const name = tool && typeof tool === "object" && !Array.isArray(tool) ? tool.name : undefined;
      const type = tool && typeof tool === "object" && !Array.isArray(tool) ? tool.type : undefined;
      if (type !== undefined && type !== "function") return;
      if (typeof name === "string" && !own.has(name)) {
        problems.push(`responses_create_params.tools[${i}]: ${env.name} has no tool "${name}" (tools: ${[...own].join(", ") || "none"})`);
      }
    });
  }
  return problems;
}
