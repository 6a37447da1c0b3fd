// The collector behind `gym collect`: streams a JSONL dataset through
// RolloutService.Collect, rows as they are (`row_json`), and writes the NeMo
// Gym output line the service answers with, one per rollout. Bad rows and failed rollouts go to `<stem>_failures.jsonl`
// with their error; the run goes on. Re-running with the same output resumes:
// every (row, repeat) ends up in the output exactly once.
import * as fs from "node:fs";
import * as path from "node:path";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { CollectRequestSchema, type CollectRequest, type RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { backoffMs, sleep, type RetryPolicy } from "../mesh/backoff.js";
import { codeName } from "../mesh/codes.js";
import { log } from "../mesh/log.js";
import { JsonShapeError, taskFromJson } from "../openai/responses-json.js";
import { pythonJsonDumps } from "../pycompat/json-dumps.js";
import { aggregate, type AgentAggregate } from "./aggregate.js";
import { JsonlFile } from "./jsonl-file.js";
import { Progress } from "./progress.js";
import { claimOutput, runRecord } from "./run-record.js";

export interface CollectOptions {
  client: Client<typeof RolloutService>;
  /** The agent instance; rows' own agent_ref.name wins when given. */
  agent?: string;
  input: string;
  output: string;
  numRepeats?: number;
  /** Sets responses_create_params.seed to the repeat index, as NeMo Gym does. */
  numRepeatsAddSeed?: boolean;
  limit?: number;
  /** Rollouts in flight at once. */
  concurrency?: number;
  /** Runs again the rollouts an earlier run recorded as failed. */
  retryFailed?: boolean;
  /** Discards earlier results of this output first. */
  fresh?: boolean;
  signal?: AbortSignal;
  progress?: Progress;
}

export interface CollectSummary {
  /** Rollouts written by this run (not counting resumed ones). */
  rollouts: number;
  failures: number;
  /** Rollouts skipped because an earlier run wrote them. */
  resumed: number;
  meanReward: number;
  elapsedMs: number;
  /** Over the whole output file, per agent. */
  metrics: AgentAggregate[];
  files: { output: string; failures: string; metrics: string; run: string };
}

interface Row {
  index: number;
  line: number;
  json: JsonObject;
  agent: string;
}

export function sidecarPaths(output: string) {
  const { dir, name } = path.parse(output);
  const at = (suffix: string) => path.join(dir, `${name}${suffix}`);
  return { output, failures: at("_failures.jsonl"), metrics: at("_aggregate_metrics.json"), run: at("_run.json") };
}

const key = (task: number, repeat: number | string) => `${task}/${repeat}`;

// A Collect stream that ends with these lost its server (a restart), not the run.
const STREAM_BROKEN = new Set([Code.Unavailable, Code.Aborted, Code.Internal, Code.Unknown]);
// Reconnects in a row with no result between them: about a minute in all.
const RECONNECT: RetryPolicy = { maxAttempts: 8, baseMs: 500, maxMs: 16_000 };

export async function collectFile(options: CollectOptions): Promise<CollectSummary> {
  const started = performance.now();
  const numRepeats = Math.max(1, options.numRepeats ?? 1);
  const concurrency = Math.max(1, options.concurrency ?? 64);
  const files = sidecarPaths(options.output);
  fs.mkdirSync(path.dirname(path.resolve(options.output)), { recursive: true });

  const record = runRecord(options.input, {
    agent: options.agent ?? null,
    num_repeats: numRepeats,
    num_repeats_add_seed: Boolean(options.numRepeatsAddSeed),
    limit: options.limit ?? null,
  });
  if (options.fresh) for (const f of Object.values(files)) fs.rmSync(f, { force: true });
  claimOutput(files.run, [files.output, files.failures], record);

  // What earlier runs left: written rollouts are done; recorded failures are
  // done too, unless they are to be retried.
  const out = new JsonlFile(files.output);
  const failed = new JsonlFile(files.failures);
  const done = new Set(out.readRepaired().map((l) => key(Number(l._ng_task_index), Number(l._ng_rollout_index))));
  let oldFailures = failed.readRepaired();
  if (options.retryFailed) {
    oldFailures = [];
    failed.rewrite([]);
  }
  for (const f of oldFailures) done.add(key(Number(f._ng_task_index), f._ng_rollout_index === undefined ? "*" : Number(f._ng_rollout_index)));

  let rollouts = 0;
  let failures = 0;
  let rewardSum = 0;
  let total = 0;
  const progress = options.progress ?? new Progress();
  const rows = readRows(options);
  const counts = () => ({ done: rollouts + failures, total, failures, rewardSum, rewarded: rollouts });

  const fail = (fields: JsonObject, code: string, message: string) => {
    failures++;
    failed.append({ ...fields, error: { code, message } });
    progress.update(counts());
  };

  // The work: every (row, repeat) not done yet. Bad rows fail once, for all repeats.
  const work: { row: Row; repeat: number }[] = [];
  let resumed = 0;
  for (const row of rows) {
    if ("error" in row) {
      if (!done.has(key(row.index, "*"))) fail(row.fields, "invalid_argument", row.error);
      continue;
    }
    for (let repeat = 0; repeat < numRepeats; repeat++) {
      if (done.has(key(row.index, repeat)) || done.has(key(row.index, "*"))) resumed++;
      else work.push({ row, repeat });
    }
  }
  total = work.length + failures;

  // One request per (row, repeat): the task id says which, and rollouts are
  // sent while fewer than `concurrency` are out.
  type Pending = { row: Row; repeat: number; json: JsonObject };
  let outstanding = 0;
  let resultArrived: (() => void) | undefined;
  let cursor = 0;
  const pending = new Map<string, Pending>();
  const requestOf = (taskId: string, item: Pending) =>
    create(CollectRequestSchema, {
      taskId,
      input: { case: "rowJson", value: JSON.stringify(item.json) },
      numRepeats: 1,
      firstRepeat: item.repeat,
      agent: item.row.agent,
      wantOutputLines: true,
      taskIndex: BigInt(item.row.index),
    });
  // One stream at a time; a stream that broke stops taking work (`stream` moved on).
  let stream = 0;
  async function* requests(mine: number): AsyncGenerator<CollectRequest> {
    // After a reconnect: first what the broken stream never answered.
    for (const [taskId, item] of [...pending]) yield requestOf(taskId, item);
    while (cursor < work.length) {
      while (outstanding >= concurrency) await new Promise<void>((r) => (resultArrived = r));
      if (mine !== stream || cursor >= work.length) return;
      const item = work[cursor++]!;
      outstanding++;
      const taskId = key(item.row.index, item.repeat);
      const next = { ...item, json: materialize(item.row, item.repeat, options) };
      pending.set(taskId, next);
      yield requestOf(taskId, next);
    }
  }

  try {
    let reconnects = 0;
    while (cursor < work.length || pending.size > 0) {
      try {
        for await (const result of options.client.collect(requests(++stream), { signal: options.signal })) {
          const found = pending.get(result.taskId);
          if (!found) continue; // answered already
          reconnects = 0;
          outstanding--;
          resultArrived?.();
          const { row, repeat, json } = found;
          pending.delete(result.taskId);
          const ids: JsonObject = { _ng_task_index: row.index, _ng_rollout_index: repeat, agent_ref: { name: result.agent } };
          if (result.outcome.case === "outputLineJson") {
            const line = JSON.parse(result.outcome.value) as JsonObject;
            const reward = typeof line.reward === "number" ? line.reward : 0;
            rollouts++;
            rewardSum += reward;
            out.append(line);
            progress.update(counts());
          } else if (result.outcome.case === "error") {
            fail({ ...json, ...ids }, codeName(result.outcome.value.code), result.outcome.value.message);
          }
        }
      } catch (err) {
        // The rollout service went away (a restart): open a new stream and send again
        // what was not answered, a bounded number of times in a row.
        const error = ConnectError.from(err);
        if (!STREAM_BROKEN.has(error.code) || options.signal?.aborted || ++reconnects > RECONNECT.maxAttempts) throw err;
        const wait = backoffMs(RECONNECT, reconnects);
        log.warn("collect_reconnect", { attempt: reconnects, pending: pending.size, code: Code[error.code], message: error.rawMessage, wait_ms: Math.round(wait) });
        stream++;
        resultArrived?.();
        await sleep(wait, options.signal);
      }
    }
  } finally {
    out.close();
    failed.close();
    progress.finish(counts());
  }

  const metrics = aggregate(out.readRepaired(), failed.readRepaired());
  fs.writeFileSync(files.metrics, JSON.stringify(metrics, null, 2) + "\n");
  return {
    rollouts,
    failures,
    resumed,
    meanReward: rollouts ? rewardSum / rollouts : 0,
    elapsedMs: performance.now() - started,
    metrics,
    files,
  };
}

/**
 * The task of one repeat. With add-seed, as NeMo Gym does: the repeat index
 * becomes `seed` in the JSON text of `metadata.extra_body`, which
 * OpenAI-compatible backends (vLLM) merge into the request body.
 */
function materialize(row: Row, repeat: number, options: CollectOptions): JsonObject {
  if (!options.numRepeatsAddSeed) return row.json;
  const params = row.json.responses_create_params as JsonObject;
  const metadata = (params.metadata ?? {}) as JsonObject;
  const extraBody = JSON.parse(typeof metadata.extra_body === "string" ? metadata.extra_body : "{}") as JsonObject;
  const withSeed = { ...metadata, extra_body: pythonJsonDumps({ ...extraBody, seed: repeat }) };
  return { ...row.json, responses_create_params: { ...params, metadata: withSeed } };
}

type ParsedRow = Row | { index: number; fields: JsonObject; error: string };

/** Parses the dataset; a bad line becomes an error with its line number. */
function readRows(options: CollectOptions): ParsedRow[] {
  const lines = fs.readFileSync(options.input, "utf8").split("\n");
  const rows: ParsedRow[] = [];
  for (const [i, text] of lines.entries()) {
    if (!text.trim()) continue;
    if (options.limit !== undefined && rows.length >= options.limit) break;
    const line = i + 1;
    const index = rows.length;
    const where = `${options.input}:${line}`;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      rows.push({ index, fields: { _ng_task_index: index, line }, error: `${where}: not valid JSON: ${(err as Error).message}` });
      continue;
    }
    try {
      // Checked here, so a bad row fails once for all its repeats.
      taskFromJson(json);
      const obj = json as JsonObject;
      const ref = obj.agent_ref as JsonObject | undefined;
      const agent = typeof ref?.name === "string" ? ref.name : (options.agent ?? "");
      rows.push({ index, line, json: obj, agent });
    } catch (err) {
      if (!(err instanceof JsonShapeError)) throw err;
      const fields = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as JsonObject) : {};
      rows.push({ index, fields: { ...fields, _ng_task_index: index, line }, error: `${where}: ${err.message}` });
    }
  }
  return rows;
}
