// collect(): many rollouts over one RolloutService.Collect stream, on the raw
// path (rows in as `row_json`, NeMo Gym output lines out), one request per
// (task, repeat) with `first_repeat`, so a broken stream is resumed by sending
// again exactly the rollouts not answered yet: each is yielded once.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { CollectRequest, RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { deadlineError, gymError } from "./errors.js";
import { backoffMs, canceled, remaining, retriable, sleep, type Retry } from "./retry.js";
import { resultOf, unitsOf, type CollectResult, type TaskOrRow, type Unit } from "./rows.js";
import { REQUEST_ID_HEADER } from "../mesh/request-id.js";

export const COLLECT = "/gymmesh.v1.RolloutService/Collect";

export interface CollectOptions {
  /** Rollouts of each task (a GRPO group). Default 1. */
  repeats?: number;
  /** Rollouts sent and not answered yet, at most. Default 64. */
  maxInFlight?: number;
  /** The agent instance for every task; default each row's `agent_ref.name`, else the rollout service's default agent. */
  agent?: string;
  /** Cancels the stream and its rollouts; the iteration then throws a Canceled ConnectError. */
  signal?: AbortSignal;
  /** A deadline for the whole collect, in ms; default the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Sent as `x-request-id` (the servers' logs carry it). */
  requestId?: string;
}

export interface CollectContext {
  url: string;
  rollout: Client<typeof RolloutService>;
  retry: Retry;
  timeoutMs?: number;
}

export function collect(ctx: CollectContext, tasks: Iterable<TaskOrRow> | AsyncIterable<TaskOrRow>, options: CollectOptions = {}): AsyncGenerator<CollectResult, void, undefined> {
  const repeats = options.repeats ?? 1;
  const maxInFlight = options.maxInFlight ?? 64;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError("gym-mesh: collect: repeats must be a whole number of at least 1");
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError("gym-mesh: collect: maxInFlight must be a whole number of at least 1");
  if (tasks === null || typeof tasks !== "object" || !(Symbol.iterator in tasks || Symbol.asyncIterator in tasks)) {
    throw new TypeError("gym-mesh: collect: tasks must be an iterable (or async iterable) of rows or Tasks");
  }
  return run(ctx, new Plan(units(tasks, repeats, options.agent ?? ""), maxInFlight), options);
}

async function* units(tasks: Iterable<TaskOrRow> | AsyncIterable<TaskOrRow>, repeats: number, agent: string): AsyncGenerator<Unit> {
  let index = 0;
  for await (const task of tasks) yield* unitsOf(index++, task, repeats, agent);
}

async function* run(ctx: CollectContext, plan: Plan, options: CollectOptions): AsyncGenerator<CollectResult, void, undefined> {
  const timeoutMs = options.timeoutMs ?? ctx.timeoutMs;
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const headers = options.requestId ? { [REQUEST_ID_HEADER]: options.requestId } : undefined;
  const signal = options.signal;
  let tries = 0;
  try {
    while (!plan.finished()) {
      if (signal?.aborted) throw canceled(signal);
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) throw deadlineError(ctx.url, COLLECT, timeoutMs);
      const generation = plan.generation;
      const call = new AbortController();
      const onAbort = () => call.abort(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      plan.cancel = () => call.abort(new ConnectError("the tasks failed", Code.Canceled));
      let progressed = false;
      let failure: unknown;
      try {
        for await (const response of ctx.rollout.collect(plan.requests(generation), { signal: call.signal, timeoutMs: left, headers })) {
          const unit = plan.answered(response.taskId);
          if (!unit) continue; // already yielded, or not ours
          progressed = true;
          yield resultOf(unit, response);
        }
      } catch (err) {
        failure = err;
      } finally {
        plan.nextGeneration();
        call.abort();
        signal?.removeEventListener("abort", onAbort);
      }
      if (plan.inputError !== undefined) throw plan.inputError;
      if (signal?.aborted) throw canceled(signal);
      if (failure === undefined && plan.finished()) return;
      if (progressed) tries = 0;
      tries++;
      if (failure !== undefined && !retriable(ctx.retry, failure)) throw gymError(failure, ctx.url, COLLECT, tries);
      if (tries >= ctx.retry.attempts) {
        throw gymError(failure ?? new ConnectError("the stream ended with rollouts unanswered", Code.Unavailable), ctx.url, COLLECT, tries);
      }
      const pause = backoffMs(ctx.retry, tries);
      const before = remaining(deadline);
      if (before !== undefined && pause >= before) throw deadlineError(ctx.url, COLLECT, timeoutMs);
      await sleep(pause, signal);
    }
  } finally {
    plan.close();
  }
}

/**
 * The rollouts of one collect: which are out (sent, not answered) and which
 * are still to send. Each stream gets a generation; its request iterable ends
 * when the generation moves on, and a unit it pulled too late goes back for
 * the next stream, so none is lost or sent twice.
 */
class Plan {
  readonly pending = new Map<string, Unit>();
  private readonly pushback: Unit[] = [];
  private exhausted = false;
  private closed = false;
  private waiters: (() => void)[] = [];
  generation = 0;
  inputError: unknown;
  /** Ends the current stream (the caller's tasks failed). */
  cancel: () => void = () => {};

  constructor(
    private readonly units: AsyncGenerator<Unit>,
    private readonly maxInFlight: number,
  ) {}

  finished(): boolean {
    return this.exhausted && this.pending.size === 0 && this.pushback.length === 0;
  }

  answered(taskId: string): Unit | undefined {
    const unit = this.pending.get(taskId);
    if (unit) {
      this.pending.delete(taskId);
      this.wake();
    }
    return unit;
  }

  nextGeneration(): void {
    this.generation++;
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.nextGeneration();
    void this.units.return(undefined).catch(() => {});
  }

  async *requests(generation: number): AsyncGenerator<CollectRequest> {
    // A new stream first sends again what the last one left unanswered.
    for (const unit of [...this.pending.values()]) {
      if (this.generation !== generation) return;
      yield unit.request;
    }
    for (;;) {
      while (this.pending.size >= this.maxInFlight && this.generation === generation) await new Promise<void>((r) => this.waiters.push(r));
      if (this.generation !== generation) return;
      const unit = await this.pull();
      if (!unit) return;
      if (this.generation !== generation || this.closed) {
        this.pushback.unshift(unit);
        return;
      }
      this.pending.set(unit.taskId, unit);
      yield unit.request;
    }
  }

  private async pull(): Promise<Unit | undefined> {
    const back = this.pushback.shift();
    if (back) return back;
    if (this.exhausted) return undefined;
    try {
      const next = await this.units.next();
      if (!next.done) return next.value;
    } catch (err) {
      // The caller's tasks failed: end the collect with their error.
      this.inputError = err;
      this.cancel();
    }
    this.exhausted = true;
    return undefined;
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
