// The collector behind `gym collect`: streams a JSONL dataset through
// RolloutService.Collect, rows as they are (`row_json`), and writes the NeMo
// Gym output line the service answers with, one per rollout. Bad rows and
// failed rollouts go to `<stem>_failures.jsonl` with their error; the run goes
// on. Re-running with the same output resumes: every (row, repeat) ends up in
// the output exactly once.
//
// One writer per output (`<stem>.lock`, lock.ts). The input is read as a
// stream and its repeats expanded as tasks are sent: memory holds what is in
// flight (and the (row, repeat) keys already written), not rows x repeats.
// A stop signal ends a run early but cleanly: no new tasks, the rollouts in
// flight get `drainTimeoutMs`, what finished is written with the metrics.
import * as fs from "node:fs";
import * as path from "node:path";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { CollectRequestSchema, type CollectRequest, type RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { backoffMs, sleep, type RetryPolicy } from "../mesh/backoff.js";
import { codeName } from "../mesh/codes.js";
import { UsageError } from "../mesh/errors.js";
import { log } from "../mesh/log.js";
import { JsonShapeError, taskFromJson } from "../openai/responses-json.js";
import { pythonJsonDumps } from "../pycompat/json-dumps.js";
import { aggregate, type AgentAggregate } from "./aggregate.js";
import { fileError, readLines, writeFileAtomic } from "./files.js";
import { JsonlFile } from "./jsonl-file.js";
import { OutputLock } from "./lock.js";
import { Progress } from "./progress.js";
import { checkInput, claimOutput, runRecord, scanInput } from "./run-record.js";

export interface CollectOptions {
  /** The rollout service (only its Collect is called): a remote one, the mesh in this process, or mesh workers. */
  client: Pick<Client<typeof RolloutService>, "collect">;
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
  /** Runs again the rollouts an earlier run recorded as failed; each record stays until its retry has a result. */
  retryFailed?: boolean;
  /** Discards earlier results of this output first. */
  fresh?: boolean;
  /** Cancels the run at once (the stream with it); what is written stays resumable. */
  signal?: AbortSignal;
  /**
   * Ends the run early: no new tasks are sent, the rollouts in flight get up
   * to `drainTimeoutMs` to finish, then what finished and the metrics are
   * written and the summary says `interrupted`. A re-run resumes.
   */
  stop?: AbortSignal;
  /** How long a stopped run waits for the rollouts in flight; default 10 s. */
  drainTimeoutMs?: number;
  progress?: Progress;
  /** What the user should know on the way (a stale lock taken over); default a `gym:` line on stderr. */
  note?: (message: string) => void;
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
  /** Failures in the failures file after this run: this run's and earlier ones not retried (--retry-failed runs them). */
  recordedFailures: number;
  /** Stopped (`stop`) before every rollout was done: a re-run does the rest. */
  interrupted: boolean;
  /** Rollouts still in flight when the drain time ran out (not written: a re-run does them). */
  abandoned: number;
  files: OutputFiles;
}

export type OutputFiles = ReturnType<typeof sidecarPaths>;

interface Row {
  index: number;
  line: number;
  json: JsonObject;
  agent: string;
}

export function sidecarPaths(output: string) {
  const { dir, name } = path.parse(output);
  const at = (suffix: string) => path.join(dir, `${name}${suffix}`);
  // An output named x.lock would be its own lock: then the lock is x.lock.lock.
  const lock = path.resolve(at(".lock")) === path.resolve(output) ? `${output}.lock` : at(".lock");
  return { output, failures: at("_failures.jsonl"), metrics: at("_aggregate_metrics.json"), run: at("_run.json"), lock };
}

const key = (task: number, repeat: number | string) => `${task}/${repeat}`;
const failureKey = (f: JsonObject) => key(Number(f._ng_task_index), f._ng_rollout_index === undefined ? "*" : Number(f._ng_rollout_index));

/**
 * The failures that still stand: the last record of each (row, repeat) that
 * is not in the output. An earlier record of a retried rollout stays in the
 * file until the retry's result is written, so a run killed in the middle of
 * --retry-failed loses no record; the end of a run drops the superseded ones.
 */
function standingFailures(records: JsonObject[], written: Set<string>): Map<string, JsonObject> {
  const standing = new Map<string, JsonObject>();
  for (const f of records) {
    const k = failureKey(f);
    standing.delete(k); // the last record wins, in its place
    if (!written.has(k)) standing.set(k, f);
  }
  return standing;
}

// A Collect stream that ends with these lost its server (a restart), not the run.
const STREAM_BROKEN = new Set([Code.Unavailable, Code.Aborted, Code.Internal, Code.Unknown]);
// Reconnects in a row with no result between them: about a minute in all.
const RECONNECT: RetryPolicy = { maxAttempts: 8, baseMs: 500, maxMs: 16_000 };

/** The output's folder, made if needed (returns the first folder it made, to remove on a failed start). */
function makeOutputDir(output: string): string | undefined {
  try {
    return fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST" || (err as NodeJS.ErrnoException).code === "ENOTDIR") {
      throw new UsageError(`cannot create the folder of ${output}: a part of its path is a file, not a folder`);
    }
    throw fileError("create the folder of", output, err);
  }
}

export async function collectFile(options: CollectOptions): Promise<CollectSummary> {
  const started = performance.now();
  const numRepeats = Math.max(1, options.numRepeats ?? 1);
  const concurrency = Math.max(1, options.concurrency ?? 64);
  const drainMs = options.drainTimeoutMs ?? 10_000;
  const note = options.note ?? ((message: string) => process.stderr.write(`gym: ${message}\n`));
  const files = sidecarPaths(options.output);

  // Nothing is created before the input is known to be readable.
  checkInput(options.input);
  const madeDir = makeOutputDir(options.output);
  let lock: OutputLock;
  try {
    lock = OutputLock.acquire(files.lock, options.output, note);
  } catch (err) {
    if (madeDir) fs.rmSync(madeDir, { recursive: true, force: true });
    throw err;
  }
  // Results of earlier runs (none once --fresh discarded them).
  let hadResults = [files.output, files.failures].some((f) => fs.existsSync(f) && fs.statSync(f).size > 0);
  let rollouts = 0;
  let failures = 0;
  try {
    return await collectLocked();
  } catch (err) {
    // A run that wrote nothing leaves nothing: no run record, no empty files.
    if (rollouts + failures === 0 && !hadResults) {
      for (const f of [files.output, files.failures, files.metrics, files.run]) {
        if (!fs.existsSync(f) || fs.statSync(f).size === 0 || f === files.run) fs.rmSync(f, { force: true });
      }
      if (madeDir) fs.rmSync(madeDir, { recursive: true, force: true, maxRetries: 0 });
    }
    throw err;
  } finally {
    lock.release();
  }

  async function collectLocked(): Promise<CollectSummary> {
    const scan = await scanInput(options.input, options.limit);
    const record = runRecord(scan.sha256, {
      agent: options.agent ?? null,
      num_repeats: numRepeats,
      num_repeats_add_seed: Boolean(options.numRepeatsAddSeed),
      limit: options.limit ?? null,
    });
    if (options.fresh) {
      for (const f of [files.output, files.failures, files.metrics, files.run]) fs.rmSync(f, { force: true });
      hadResults = false;
    }
    claimOutput(files.run, [files.output, files.failures], record);

    // What earlier runs left: written rollouts are done; recorded failures are
    // done too, unless they are to be retried.
    const out = new JsonlFile(files.output);
    const failed = new JsonlFile(files.failures);
    const written = new Set<string>();
    await out.scan((l) => written.add(key(Number(l._ng_task_index), Number(l._ng_rollout_index))));
    const earlier = standingFailures(failed.readRepaired(), written);
    const done = new Set(written);
    if (!options.retryFailed) for (const k of earlier.keys()) done.add(k);

    // What this run has to do: every (row, repeat) but those done (a bad row is done for all its repeats).
    const badRows = new Set<string>();
    for (const k of done) if (k.endsWith("/*")) badRows.add(k.slice(0, -2));
    let covered = 0;
    for (const k of done) {
      const [task, repeat] = k.split("/") as [string, string];
      if (Number(task) >= scan.rows) continue;
      if (repeat === "*") covered += numRepeats;
      else if (!badRows.has(task) && Number(repeat) < numRepeats) covered++;
    }
    let total = Math.max(0, scan.rows * numRepeats - covered);

    let rewardSum = 0;
    let resumed = 0;
    const progress = options.progress ?? new Progress();
    type Pending = { row: Row; repeat: number; json: JsonObject; sentOn: number };
    const pending = new Map<string, Pending>();
    const counts = () => ({ done: rollouts + failures, total, failures, rewardSum, rewarded: rollouts, inFlight: pending.size });

    const fail = (fields: JsonObject, code: string, message: string) => {
      failures++;
      failed.append({ ...fields, error: { code, message } });
      progress.update(counts());
    };

    // The work, lazily: each (row, repeat) not done yet, as the input is read.
    async function* workItems(): AsyncGenerator<{ row: Row; repeat: number }> {
      for await (const row of readRows(options)) {
        if ("error" in row) {
          if (!done.has(key(row.index, "*"))) {
            total -= numRepeats - 1; // fails once, for all its repeats
            fail(row.fields, "invalid_argument", row.error);
          }
          continue;
        }
        for (let repeat = 0; repeat < numRepeats; repeat++) {
          if (done.has(key(row.index, repeat)) || done.has(key(row.index, "*"))) resumed++;
          else yield { row, repeat };
        }
      }
    }
    const work = workItems();

    // Flow: tasks are sent while fewer than `concurrency` are out; a result,
    // a stop or a new stream wakes the sender.
    let waiters: (() => void)[] = [];
    const wake = () => {
      const woken = waiters;
      waiters = [];
      for (const w of woken) w();
    };
    const changed = () => new Promise<void>((resolve) => waiters.push(resolve));
    let exhausted = false;
    let stopping = false;
    let fatal: unknown;
    const cut = new AbortController(); // the drain time ran out, or the input failed
    const callSignal = options.signal ? AbortSignal.any([options.signal, cut.signal]) : cut.signal;
    const waitSignal = AbortSignal.any([options.signal, options.stop, cut.signal].filter((s): s is AbortSignal => s !== undefined));
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const onStop = () => {
      if (stopping) return;
      stopping = true;
      wake();
      drainTimer = setTimeout(() => cut.abort(new ConnectError("the drain time ran out", Code.Canceled)), drainMs);
    };
    if (options.stop?.aborted) onStop();
    else options.stop?.addEventListener("abort", onStop, { once: true });

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
    // What the current stream has still to send, popped from the end: a new
    // stream starts with every pending rollout (oldest popped first), a new
    // task goes in under them. So a send never walks all that is in flight.
    let unsent: string[] = [];
    const startStream = () => {
      unsent = [...pending.keys()].reverse();
      return ++stream;
    };
    async function* requests(mine: number): AsyncGenerator<CollectRequest> {
      for (;;) {
        if (mine !== stream || stopping || fatal !== undefined) return;
        // What a broken stream never answered (and what came from the input while streams changed) goes first.
        while (unsent.length > 0) {
          if (mine !== stream || stopping) return;
          const taskId = unsent.pop()!;
          const item = pending.get(taskId);
          if (!item || item.sentOn === mine) continue; // answered, or sent already
          item.sentOn = mine;
          yield requestOf(taskId, item);
        }
        if (exhausted) return;
        if (pending.size >= concurrency) {
          await changed();
          continue;
        }
        let next: IteratorResult<{ row: Row; repeat: number }>;
        try {
          next = await work.next();
        } catch (err) {
          fatal = err;
          cut.abort(err);
          return;
        }
        if (next.done) {
          exhausted = true;
          continue;
        }
        if (stopping) return; // not sent: a re-run does it
        const { row, repeat } = next.value;
        const taskId = key(row.index, repeat);
        let json: JsonObject;
        try {
          json = materialize(row, repeat, options);
        } catch (err) {
          fail({ ...row.json, _ng_task_index: row.index, _ng_rollout_index: repeat, line: row.line }, "invalid_argument", `${options.input}:${row.line}: ${(err as Error).message}`);
          continue;
        }
        pending.set(taskId, { row, repeat, json, sentOn: -1 });
        unsent.unshift(taskId);
        wake(); // another stream's sender, if streams changed meanwhile
      }
    }

    progress.start(counts);
    let ended = false;
    try {
      let reconnects = 0;
      for (;;) {
        if (stopping || (exhausted && pending.size === 0)) break;
        const mine = startStream();
        wake();
        let broken: ConnectError | undefined;
        try {
          for await (const result of options.client.collect(requests(mine), { signal: callSignal })) {
            const found = pending.get(result.taskId);
            if (!found) continue; // answered already
            reconnects = 0;
            pending.delete(result.taskId);
            wake();
            const { row, repeat, json } = found;
            const ids: JsonObject = { _ng_task_index: row.index, _ng_rollout_index: repeat, agent_ref: { name: result.agent } };
            if (result.outcome.case === "outputLineJson") {
              const text = result.outcome.value;
              const line = JSON.parse(text) as JsonObject;
              const reward = typeof line.reward === "number" ? line.reward : 0;
              // The server's text as it came (one line, as JSON.stringify writes it): no second encoding.
              if (text.includes("\n")) out.append(line);
              else out.appendLine(text);
              written.add(key(row.index, repeat));
              rollouts++;
              rewardSum += reward;
              progress.update(counts());
            } else if (result.outcome.case === "error") {
              fail({ ...json, ...ids }, codeName(result.outcome.value.code), result.outcome.value.message);
            }
          }
          // The stream ended: all answered, or a server that dropped some (send them again).
          if (fatal !== undefined) throw fatal;
          if (stopping || (exhausted && pending.size === 0)) break;
          if (pending.size === 0) continue; // a sender that gave way to a new stream
          broken = new ConnectError(`the stream ended with ${pending.size} rollouts unanswered`, Code.Unavailable);
        } catch (err) {
          if (fatal !== undefined) throw fatal;
          if (!(err instanceof ConnectError)) throw err; // ours (a write that failed), not the stream's
          if (cut.signal.aborted || stopping) break; // stopped: what is in flight stays for a re-run
          if (options.signal?.aborted) throw err;
          broken = err;
        }
        // The rollout service went away (a restart): open a new stream and send again
        // what was not answered, a bounded number of times in a row.
        if (!STREAM_BROKEN.has(broken.code) || ++reconnects > RECONNECT.maxAttempts) throw streamError(broken, reconnects);
        const wait = backoffMs(RECONNECT, reconnects);
        log.warn("collect_reconnect", { attempt: reconnects, pending: pending.size, code: Code[broken.code], message: broken.rawMessage, wait_ms: Math.round(wait) });
        stream++;
        wake();
        try {
          await sleep(wait, waitSignal);
        } catch (err) {
          if (stopping) break;
          throw err;
        }
      }
      ended = true;
    } finally {
      clearTimeout(drainTimer);
      options.stop?.removeEventListener("abort", onStop);
      stream++; // senders still waiting give up
      wake();
      void work.return(undefined).catch(() => {});
      out.close();
      failed.close();
      if (ended) progress.finish(counts());
      else progress.abandon();
    }

    const interrupted = stopping && (!exhausted || pending.size > 0);
    // The failures that stand; superseded records (retried since) go, atomically.
    const records = failed.readRepaired();
    const standing = standingFailures(records, written);
    if (standing.size !== records.length) failed.rewrite([...standing.values()]);
    const metrics = aggregate(out.readRepaired(), [...standing.values()]);
    writeFileAtomic(files.metrics, JSON.stringify(metrics, null, 2) + "\n");
    return {
      rollouts,
      failures,
      resumed,
      meanReward: rollouts ? rewardSum / rollouts : 0,
      elapsedMs: performance.now() - started,
      metrics,
      recordedFailures: standing.size,
      interrupted,
      abandoned: interrupted ? pending.size : 0,
      files,
    };
  }
}

/** A stream that failed for good, as one line: what finished is written. */
function streamError(err: ConnectError, reconnects: number): UsageError {
  const tries = reconnects > 1 ? ` (gave up after ${reconnects - 1} reconnects)` : "";
  return new UsageError(`the Collect stream failed: ${codeName(err.code)}: ${err.rawMessage}${tries}; what finished is written: run the same command again to resume`);
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

/** The dataset's rows as it is read (a stream); a bad line becomes an error with its line number. */
async function* readRows(options: CollectOptions): AsyncGenerator<ParsedRow> {
  let line = 0;
  let index = 0;
  for await (const text of readLines(options.input)) {
    line++;
    if (!text.trim()) continue;
    if (options.limit !== undefined && index >= options.limit) return;
    const where = `${options.input}:${line}`;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      yield { index, fields: { _ng_task_index: index, line }, error: `${where}: not valid JSON: ${(err as Error).message}` };
      index++;
      continue;
    }
    try {
      // Checked here, so a bad row fails once for all its repeats.
      taskFromJson(json);
    } catch (err) {
      if (!(err instanceof JsonShapeError)) throw err;
      const fields = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as JsonObject) : {};
      yield { index, fields: { ...fields, _ng_task_index: index, line }, error: `${where}: ${err.message}` };
      index++;
      continue;
    }
    const obj = json as JsonObject;
    const ref = obj.agent_ref as JsonObject | undefined;
    const agent = typeof ref?.name === "string" ? ref.name : (options.agent ?? "");
    yield { index: index++, line, json: obj, agent };
  }
}
