// The collector behind `gym collect`: streams a JSONL dataset through
// RolloutService.Collect and writes one JSONL line per rollout in NeMo Gym's
// rollout format. Bad rows and failed rollouts go to `<stem>_failures.jsonl`
// with their error; the run goes on.
import * as fs from "node:fs";
import * as path from "node:path";
import { create, type JsonObject } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { CollectRequestSchema, type CollectRequest, type RolloutService } from "../../gen/gym/v1/rollout_pb.js";
import { responseToJson, taskFromJson, JsonShapeError } from "../mesh/responses-json.js";
import type { Task } from "../../gen/gym/v1/task_pb.js";

export interface CollectOptions {
  client: Client<typeof RolloutService>;
  /** The agent instance; rows' own agent_ref.name wins when given. */
  agent?: string;
  input: string;
  output: string;
  numRepeats?: number;
  limit?: number;
  /** Rollouts in flight at once. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface CollectSummary {
  rollouts: number;
  failures: number;
  meanReward: number;
  elapsedMs: number;
  failuresFile: string;
}

interface Row {
  index: number;
  line: number;
  json: JsonObject;
  task: Task;
  agent: string;
}

export function failuresPath(output: string): string {
  const { dir, name } = path.parse(output);
  return path.join(dir, `${name}_failures.jsonl`);
}

export async function collectFile(options: CollectOptions): Promise<CollectSummary> {
  const started = performance.now();
  const numRepeats = Math.max(1, options.numRepeats ?? 1);
  const concurrency = Math.max(1, options.concurrency ?? 64);
  fs.mkdirSync(path.dirname(path.resolve(options.output)), { recursive: true });
  const out = fs.createWriteStream(options.output);
  const failuresFile = failuresPath(options.output);
  const failed = fs.createWriteStream(failuresFile);
  const write = (stream: fs.WriteStream, obj: JsonObject) => stream.write(JSON.stringify(obj) + "\n");

  let rollouts = 0;
  let failures = 0;
  let rewardSum = 0;
  const rows = new Map<string, Row>();

  const fail = (fields: JsonObject, code: string, message: string) => {
    failures++;
    write(failed, { ...fields, error: { code, message } });
  };

  // Tasks are sent while fewer than `concurrency` rollouts are out.
  let outstanding = 0;
  let resultArrived: (() => void) | undefined;
  async function* requests(): AsyncGenerator<CollectRequest> {
    for (const row of readRows(options, fail)) {
      rows.set(String(row.index), row);
      while (outstanding > 0 && outstanding + numRepeats > concurrency) await new Promise<void>((r) => (resultArrived = r));
      outstanding += numRepeats;
      yield create(CollectRequestSchema, { taskId: String(row.index), task: row.task, numRepeats, agent: row.agent });
    }
  }

  try {
    for await (const result of options.client.collect(requests(), { signal: options.signal })) {
      outstanding--;
      resultArrived?.();
      const row = rows.get(result.taskId)!;
      const ids: JsonObject = {
        _ng_task_index: row.index,
        _ng_rollout_index: result.repeatIndex,
        agent_ref: { name: result.agent },
      };
      if (result.outcome.case === "rollout") {
        const rollout = result.outcome.value;
        const reward = rollout.verdict?.reward ?? 0;
        rollouts++;
        rewardSum += reward;
        write(out, {
          ...row.json,
          response: rollout.response ? responseToJson(rollout.response) : null,
          reward,
          ...(rollout.verdict?.extra ?? {}),
          ...ids,
        });
      } else if (result.outcome.case === "error") {
        fail({ ...row.json, ...ids }, result.outcome.value.code, result.outcome.value.message);
      }
    }
  } finally {
    await Promise.all([closeStream(out), closeStream(failed)]);
  }
  return {
    rollouts,
    failures,
    meanReward: rollouts ? rewardSum / rollouts : 0,
    elapsedMs: performance.now() - started,
    failuresFile,
  };
}

/** Parses the dataset; a bad line is recorded as a failure with its line number. */
function* readRows(options: CollectOptions, fail: (fields: JsonObject, code: string, message: string) => void): Generator<Row> {
  const lines = fs.readFileSync(options.input, "utf8").split("\n");
  let index = 0;
  for (const [i, text] of lines.entries()) {
    if (!text.trim()) continue;
    if (options.limit !== undefined && index >= options.limit) break;
    const line = i + 1;
    const taskIndex = index++;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      fail({ _ng_task_index: taskIndex, line }, "invalid_argument", `${options.input}:${line}: not valid JSON: ${(err as Error).message}`);
      continue;
    }
    try {
      const task = taskFromJson(json);
      const obj = json as JsonObject;
      const ref = obj.agent_ref as JsonObject | undefined;
      const agent = typeof ref?.name === "string" ? ref.name : (options.agent ?? "");
      yield { index: taskIndex, line, json: obj, task, agent };
    } catch (err) {
      if (!(err instanceof JsonShapeError)) throw err;
      const fields = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as JsonObject) : {};
      fail({ ...fields, _ng_task_index: taskIndex, line }, "invalid_argument", `${options.input}:${line}: ${err.message}`);
    }
  }
}

function closeStream(stream: fs.WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
