// RolloutService: many rollouts over one bidirectional stream. Tasks come in,
// results go out as they finish. A failed rollout is a result with an error,
// never a broken stream and never a reward.
import { setMaxListeners } from "node:events";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, type ServiceImpl } from "@connectrpc/connect";
import { context, trace } from "@opentelemetry/api";
import type { AgentService, RunResponse } from "../../gen/gymmesh/v1/agent_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { CollectResponseSchema, RolloutService, type CollectRequest, type CollectResponse } from "../../gen/gymmesh/v1/rollout_pb.js";
import type { Rollout, Task } from "../../gen/gymmesh/v1/task_pb.js";
import { AsyncQueue } from "../mesh/async-queue.js";
import { backoffMs, sleep, type RetryPolicy } from "../mesh/backoff.js";
import { Deadline, type CallOptions } from "../mesh/deadline.js";
import { log } from "../mesh/log.js";
import { endSpan, startRolloutSpan } from "../mesh/tracing.js";
import { rolloutLine, rowAgent, rowFromJsonText } from "../nemo-gym/rollout-line.js";
import { taskToJson } from "../openai/responses-json.js";

export interface RolloutDeps {
  /** Agent clients by instance name. */
  agents: Map<string, Client<typeof AgentService>>;
  /** The agent of tasks that name none; absent, the only agent when there is one, else such tasks fail (INVALID_ARGUMENT). */
  defaultAgent?: string;
  /** A request's num_repeats above this fails the task (INVALID_ARGUMENT). Default 10,000. */
  maxRepeats?: number;
  /** NeMo Gym rows in `row_json` nested deeper are INVALID_ARGUMENT (default: limits.max_json_depth's). */
  maxJsonDepth?: number;
  /** Rollouts in flight per stream; the stream stops reading tasks at the cap. */
  maxInFlight: number;
  /** Deadline of one rollout, in milliseconds (0: none); retries included. */
  rolloutTimeoutMs?: number;
  /** Tries of a rollout that fails for an infrastructure reason, and the backoff between them (default: 3 tries, 0.5 s doubling up to 8 s). */
  retry?: RetryPolicy;
}

// An infrastructure failure, not a mistake of the model or the environment:
// a peer was unavailable (restarting, gone mid-call) or lost the rollout's
// session (its server restarted). The rollout runs again from a fresh session.
const RETRIED = new Set([Code.Unavailable, Code.Aborted]);
const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseMs: 500, maxMs: 8_000 };
export const DEFAULT_MAX_REPEATS = 10_000;

export function createRolloutService(deps: RolloutDeps): ServiceImpl<typeof RolloutService> {
  return createRolloutHost(deps).impl;
}

/** The service and a count of rollouts in flight over all its streams (for the rollouts_in_flight gauge). */
export interface RolloutHost {
  impl: ServiceImpl<typeof RolloutService>;
  /** Rollouts in flight over all streams (the rollouts_in_flight gauge). */
  rolloutsInFlight: () => number;
  /** Shutdown: every Collect stream stops reading tasks, finishes its rollouts in flight, then ends with UNAVAILABLE. */
  drain: () => void;
}

export function createRolloutHost(deps: RolloutDeps): RolloutHost {
  let startDrain!: () => void;
  const draining = new Promise<void>((resolve) => (startDrain = resolve));
  let running = 0;
  const impl: ServiceImpl<typeof RolloutService> = {
    async *collect(requests, ctx): AsyncGenerator<CollectResponse> {
      // Every rollout of the stream listens on its signal: lift Node's listener warning.
      setMaxListeners(0, ctx.signal);
      const results = new AsyncQueue<CollectResponse>();
      let inFlight = 0;
      let slotFreed: (() => void) | undefined;

      const finish = (req: CollectRequest, agent: string, repeatIndex: number, outcome: CollectResponse["outcome"]) => {
        results.push(create(CollectResponseSchema, { taskId: req.taskId, repeatIndex, agent, outcome }));
      };
      const fail = (req: CollectRequest, agent: string, repeatIndex: number, err: unknown) => {
        const error = ConnectError.from(err);
        finish(req, agent, repeatIndex, { case: "error", value: create(StatusSchema, { code: error.code, message: error.rawMessage }) });
      };

      const runOne = async (req: CollectRequest, input: TaskInput, agentName: string, repeatIndex: number) => {
        try {
          if ("error" in input) throw input.error;
          if (!agentName) throw noAgent(req, [...deps.agents.keys()]);
          const agent = deps.agents.get(agentName);
          if (!agent) {
            throw new ConnectError(`unknown agent "${agentName}" (agents: ${[...deps.agents.keys()].join(", ") || "none"})`, Code.NotFound);
          }
          if (!input.task.responsesCreateParams) {
            throw new ConnectError(`task ${req.taskId}: no responses_create_params`, Code.InvalidArgument);
          }
          const rolloutId = `${req.taskId}/${repeatIndex}`;
          // Each try's call carries the time left of the rollout's deadline as its
          // timeout (the agent's ctx.timeoutMs()), from which the agent gives each
          // of its calls the time left.
          const deadline = new Deadline({ timeoutMs: rolloutTimeoutMs(deps.rolloutTimeoutMs, ctx.timeoutMs()), signal: ctx.signal, requestId: rolloutId });
          running++;
          // The rollout's trace (tracing on): its tries run under one gym.rollout span.
          const traced = startRolloutSpan(rolloutId, { "gym.task.index": Number(req.taskIndex), "gym.repeat.index": repeatIndex, "gym.agent.name": agentName });
          let failure: unknown;
          try {
            const tries = () =>
              withRetries(deps.retry ?? DEFAULT_RETRY, deadline, ctx.signal, rolloutId, (call) => agent.run({ input: { case: "task", value: input.task }, rolloutId }, call));
            const rollout = await (traced ? context.with(traced.context, tries) : tries());
            if (traced) {
              rollout.traceId = traced.span.spanContext().traceId;
              traced.span.setAttributes({ "gym.reward": rollout.verdict?.reward ?? 0, "gym.attempts": rollout.attempts });
            }
            if (req.wantOutputLines) {
              const line = rolloutLine(input.row, rollout, { taskIndex: Number(req.taskIndex), repeat: repeatIndex, agent: agentName });
              finish(req, agentName, repeatIndex, { case: "outputLineJson", value: JSON.stringify(line) });
            } else {
              finish(req, agentName, repeatIndex, { case: "rollout", value: rollout });
            }
          } catch (err) {
            failure = err;
            throw err;
          } finally {
            running--;
            if (traced) endSpan(traced.span, failure);
          }
        } catch (err) {
          fail(req, agentName, repeatIndex, err);
        }
      };

      // A rollout holds its slot until its result has been written to the
      // stream, so a slow reader stops the reading of new tasks (HTTP/2 flow
      // control does the rest) and memory stays bounded.
      const freeSlot = () => {
        inFlight--;
        slotFreed?.();
      };
      let allRead = false;
      const maxRepeats = deps.maxRepeats ?? DEFAULT_MAX_REPEATS;
      // A task naming no agent goes to the default one, else to the only one; with several, it fails (noAgent).
      const fallbackAgent = deps.defaultAgent ?? (deps.agents.size === 1 ? [...deps.agents.keys()][0]! : "");
      // On shutdown (drain) the stream stops reading tasks, delivers the
      // results of the rollouts in flight, then ends with UNAVAILABLE: the
      // client sends what was not answered again, to this service restarted
      // or another replica.
      let drained = false;
      const stopped = draining.then(() => (drained = true));
      const endStream = () => {
        if (drained) results.fail(new ConnectError("the rollout service is shutting down: send the unanswered tasks again", Code.Unavailable));
        else results.end();
      };
      const reader = (async () => {
        const tasks = requests[Symbol.asyncIterator]();
        for (;;) {
          const next = await Promise.race([tasks.next(), stopped.then(() => undefined)]);
          if (!next || next.done) break;
          const req = next.value;
          let input = taskInput(req, deps.maxJsonDepth);
          const agentName = req.agent || ("row" in input ? rowAgent(input.row) : undefined) || fallbackAgent;
          let repeats = Math.max(1, req.numRepeats);
          if (repeats > maxRepeats) {
            // One result says why, not one per repeat asked for.
            input = { error: new ConnectError(`task ${req.taskId}: num_repeats ${req.numRepeats} is above the rollout service's max_repeats (${maxRepeats})`, Code.InvalidArgument) };
            repeats = 1;
          }
          for (let i = 0; i < repeats; i++) {
            while (inFlight >= deps.maxInFlight && !drained) await Promise.race([new Promise<void>((r) => (slotFreed = r)), stopped]);
            // Repeats not started when the drain began are left to the client to send again.
            if (drained) return;
            inFlight++;
            void runOne(req, input, agentName, req.firstRepeat + i);
          }
        }
      })();
      reader.then(
        () => {
          allRead = true;
          if (inFlight === 0) endStream();
        },
        (err) => results.fail(err),
      );
      for await (const result of results) {
        yield result;
        freeSlot();
        if (allRead && inFlight === 0) endStream();
      }
    },
  };
  return { impl, rolloutsInFlight: () => running, drain: () => startDrain() };
}

/** The time one rollout has: the per-rollout limit (0: none), or less when the stream's own deadline comes first. */
function rolloutTimeoutMs(limitMs: number | undefined, streamLeftMs: number | undefined): number | undefined {
  const times = [limitMs || undefined, streamLeftMs].filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.min(...times);
}

/** A request's task, read once for all its repeats: typed, or parsed from its NeMo Gym row (kept for output lines). */
type TaskInput = { task: Task; row: JsonObject } | { error: ConnectError };

function taskInput(req: CollectRequest, maxJsonDepth: number | undefined): TaskInput {
  try {
    switch (req.input.case) {
      case "task":
        return { task: req.input.value, row: req.wantOutputLines ? taskToJson(req.input.value) : {} };
      case "rowJson":
        return rowFromJsonText(req.input.value, maxJsonDepth);
      default:
        throw new ConnectError(`task ${req.taskId}: a CollectRequest needs a task or a row_json`, Code.InvalidArgument);
    }
  } catch (err) {
    return { error: ConnectError.from(err) };
  }
}

/** A task that names no agent when the service has several and no default_agent: which one is a guess, so none is made. */
function noAgent(req: CollectRequest, agents: string[]): ConnectError {
  if (agents.length === 0) return new ConnectError(`task ${req.taskId}: no agent instance in the config`, Code.FailedPrecondition);
  return new ConnectError(
    `task ${req.taskId} names no agent (CollectRequest.agent, or agent_ref.name in its row) and the rollout service has no default_agent: name one of ${agents.join(", ")}`,
    Code.InvalidArgument,
  );
}

/**
 * Runs a rollout, and again (after a backoff, while its deadline allows) when
 * it failed for an infrastructure reason, up to the policy's tries. The
 * result records its tries; a rollout out of tries fails with its last error,
 * saying how many it had.
 */
async function withRetries(
  policy: RetryPolicy,
  deadline: Deadline,
  signal: AbortSignal,
  rolloutId: string,
  run: (call: CallOptions) => Promise<RunResponse>,
): Promise<Rollout> {
  for (let attempt = 1; ; attempt++) {
    // DEADLINE_EXCEEDED, and no call, once the deadline has passed.
    const call = deadline.call(attempt === 1 ? "it started" : "it could run again");
    try {
      const { rollout } = await run(call);
      if (!rollout) throw new ConnectError("the agent returned no rollout", Code.Internal);
      rollout.attempts = attempt;
      return rollout;
    } catch (err) {
      const error = ConnectError.from(err);
      const wait = backoffMs(policy, attempt);
      const left = deadline.remainingMs();
      const outOfTime = left !== undefined && wait >= left;
      if (!RETRIED.has(error.code) || signal.aborted || attempt >= policy.maxAttempts || outOfTime) {
        if (attempt === 1 || !RETRIED.has(error.code)) throw error;
        throw new ConnectError(`${error.rawMessage} (after ${attempt} tries)`, error.code);
      }
      trace.getActiveSpan()?.addEvent("gym.retry", { attempt, "error.type": Code[error.code], message: error.rawMessage });
      log.warn("rollout_retry", { rollout_id: rolloutId, attempt, code: Code[error.code], message: error.rawMessage, wait_ms: Math.round(wait) });
      await sleep(wait, signal);
    }
  }
}
