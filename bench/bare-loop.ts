// The bare loop of the benchmark: the model calls of a rollout made straight
// to the mock model with the OpenAI SDK, no mesh. Run as a child process (one
// process holds at most ~20,000 sockets here, so the largest levels are split
// over several): it prints "ready", waits for "go" on stdin, runs, and prints
// its result as one JSON line.
//
//   node --import tsx bench/bare-loop.ts '{"mockUrl":"http://...","concurrency":64,"rollouts":500,"steps":3}'
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { Agent } from "undici";

export interface BareJob {
  mockUrl: string;
  concurrency: number;
  rollouts: number;
  steps: number;
}

export interface BareResult {
  /** Wall-clock start and end (ms since the epoch), to merge shards. */
  startedAt: number;
  endedAt: number;
  latenciesMs: number[];
  failures: number;
  firstError?: string;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROW = JSON.parse(
  fs.readFileSync(path.join(ROOT, "services/environments/example_single_tool_call/data/example.jsonl"), "utf8").split("\n")[0]!,
);
const TOOL_OUTPUT = '{"city": "San Francisco", "weather_description": "The weather in San Francisco is cold."}';

async function runBareLoop(job: BareJob): Promise<BareResult> {
  // A burst of thousands of connects overflows the accept queue; the kernel retries dropped SYNs after 1 s, 3 s...
  const dispatcher = new Agent({ connections: job.concurrency, keepAliveTimeout: 30_000, connect: { timeout: 60_000 } });
  const openai = new OpenAI({ baseURL: `${job.mockUrl}/v1`, apiKey: "none", maxRetries: 0, fetchOptions: { dispatcher } as never });
  const params = ROW.responses_create_params;
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let next = 0;
  const one = async () => {
    const t0 = performance.now();
    const input = [...params.input];
    for (let step = 0; step < job.steps; step++) {
      const res = await openai.responses.create({ ...params, model: "mock", input }).asResponse();
      const body = (await res.json()) as { output: { type: string; call_id?: string }[] };
      input.push(...body.output);
      for (const item of body.output) {
        if (item.type === "function_call") input.push({ type: "function_call_output", call_id: item.call_id, output: TOOL_OUTPUT });
      }
    }
    latenciesMs.push(performance.now() - t0);
  };
  const worker = async () => {
    while (next < job.rollouts) {
      next++;
      await one().catch((err: Error) => {
        failures++;
        firstError ??= causeChain(err);
      });
    }
  };
  const startedAt = Date.now();
  // Workers start in batches: thousands of connects at once overflow the mock's accept queue
  // (somaxconn 4,096 here) and some come back as ECONNRESET.
  const workers: Promise<void>[] = [];
  for (let i = 0; i < job.concurrency; i++) {
    if (i > 0 && i % 512 === 0) await new Promise((r) => setTimeout(r, 20));
    workers.push(worker());
  }
  await Promise.all(workers);
  const endedAt = Date.now();
  await dispatcher.close();
  return { startedAt, endedAt, latenciesMs, failures, firstError };
}

/** An error and its causes, for the first-failure line. */
export function causeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; code?: string; cause?: unknown } | undefined; e && parts.length < 5; e = e.cause as typeof e) {
    parts.push(`${e.message ?? String(e)}${e.code ? ` (${e.code})` : ""}`);
  }
  return parts.join(" <- ");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const job = JSON.parse(process.argv[2]!) as BareJob;
  // Warm up (JIT, connections) before the measured run.
  await runBareLoop({ ...job, concurrency: Math.min(job.concurrency, 64), rollouts: Math.min(job.rollouts, 128) });
  console.log("ready");
  for await (const line of readline.createInterface({ input: process.stdin })) if (line === "go") break;
  console.log(JSON.stringify(await runBareLoop(job)));
  process.exit(0);
}
