// createGymClient(url, options): typed clients of the services at one
// instance URL, sharing one transport, plus run() and collect() on the raw
// path (NeMo Gym rows in, NeMo Gym output lines out), as the Python and Go
// clients have them.
import { Code, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { AgentService } from "../../gen/gymmesh/v1/agent_pb.js";
import { EpisodeService } from "../../gen/gymmesh/v1/episode_pb.js";
import { ModelService } from "../../gen/gymmesh/v1/model_pb.js";
import { ResourcesService } from "../../gen/gymmesh/v1/resources_pb.js";
import { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { collect, type CollectOptions } from "./collect.js";
import { deadlineError, gymError, GymError } from "./errors.js";
import { backoffMs, canceled, remaining, retriable, retryPolicy, sleep, type RetryOptions } from "./retry.js";
import { runRequest, runResult, type CollectResult, type RunResult, type TaskOrRow } from "./rows.js";
import { createClientTransport, type TransportOptions } from "./transport.js";
import { REQUEST_ID_HEADER } from "../mesh/request-id.js";

export interface GymClientOptions extends TransportOptions {
  /** How run(), collect() and check() retry UNAVAILABLE (the typed clients never retry). */
  retry?: RetryOptions;
}

export interface RunOptions {
  /** Echoed in the rollout; made up by the agent when empty. */
  rolloutId?: string;
  /** Sent as `x-request-id` (the servers' logs carry it). */
  requestId?: string;
  /** A deadline for the whole run, retries included, in ms; default the client's `timeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GymClient {
  /** The URL the client was made for. */
  readonly url: string;
  /** The transport every client below shares (one HTTP/2 connection): `createClient(AnyService, gym.transport)`. */
  readonly transport: Transport;
  readonly agent: Client<typeof AgentService>;
  readonly rollout: Client<typeof RolloutService>;
  readonly resources: Client<typeof ResourcesService>;
  readonly episodes: Client<typeof EpisodeService>;
  readonly model: Client<typeof ModelService>;
  readonly health: Client<typeof Health>;
  /**
   * One rollout (`AgentService.Run`; the URL of an agent instance). A row is
   * sent as it is (`row_json`), a typed Task as a task; either way the result
   * has the typed rollout and the NeMo Gym output line. UNAVAILABLE is
   * retried; any failure throws a GymError (a ConnectError with its code).
   */
  run(task: TaskOrRow, options?: RunOptions): Promise<RunResult>;
  /**
   * Every task `repeats` times over one `RolloutService.Collect` stream (the
   * URL of the rollout instance): yields a result per (task, repeat) as each
   * finishes (completion order). A failed rollout is a result with `error`
   * and the stream goes on. `tasks` is read lazily. A broken stream
   * (UNAVAILABLE) is resumed: exactly the rollouts not answered yet are sent
   * again, so each (task, repeat) is yielded once. Stopping the iteration
   * early cancels the stream.
   */
  collect(tasks: Iterable<TaskOrRow> | AsyncIterable<TaskOrRow>, options?: CollectOptions): AsyncGenerator<CollectResult, void, undefined>;
  /** Resolves when the instance's health service says it is serving; throws a GymError otherwise. */
  check(options?: CallOptions): Promise<void>;
  /** Closes the connection (http/https URLs; a grpc:// channel closes when idle). Clients still work after: they reconnect. */
  close(): void;
}

const RUN = "/gymmesh.v1.AgentService/Run";
const CHECK = "/grpc.health.v1.Health/Check";

/**
 * Typed clients of the services at one instance URL, as `gym serve` prints
 * them: `http://host:port` (the main port: gRPC over HTTP/2 with connect),
 * `grpc://host:port` (the grpc-js port, cheaper), or with TLS `https://host[:port]`
 * and `grpcs://host:port` (`tls` for a CA and a client certificate). Throws a BadUrlError for a
 * URL that is none of them. Nothing connects until the first call.
 */
export function createGymClient(url: string, options: GymClientOptions = {}): GymClient {
  const retry = retryPolicy(options.retry);
  const { transport, close } = createClientTransport(url, options);
  const agent = createClient(AgentService, transport);
  const rollout = createClient(RolloutService, transport);
  const health = createClient(Health, transport);
  const clientTimeout = options.timeoutMs;

  async function run(task: TaskOrRow, opts: RunOptions = {}): Promise<RunResult> {
    const request = runRequest(task, opts.rolloutId);
    const headers = opts.requestId ? { [REQUEST_ID_HEADER]: opts.requestId } : undefined;
    const timeoutMs = opts.timeoutMs ?? clientTimeout;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (let tries = 1; ; tries++) {
      if (opts.signal?.aborted) throw canceled(opts.signal);
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) throw deadlineError(url, RUN, timeoutMs);
      try {
        return runResult(await agent.run(request, { timeoutMs: left, headers, signal: opts.signal }));
      } catch (err) {
        if (opts.signal?.aborted) throw canceled(opts.signal);
        const pause = backoffMs(retry, tries);
        const before = remaining(deadline);
        if (!retriable(retry, err) || tries >= retry.attempts || (before !== undefined && pause >= before)) throw gymError(err, url, RUN, tries);
        await sleep(pause, opts.signal);
      }
    }
  }

  async function check(opts: CallOptions = {}): Promise<void> {
    let status: HealthCheckResponse_ServingStatus;
    try {
      ({ status } = await health.check({}, { timeoutMs: clientTimeout, ...opts }));
    } catch (err) {
      throw gymError(err, url, CHECK);
    }
    if (status !== HealthCheckResponse_ServingStatus.SERVING) {
      throw new GymError(`${CHECK} at ${url}: ${HealthCheckResponse_ServingStatus[status]}`, Code.Unavailable, url, CHECK);
    }
  }

  return {
    url,
    transport,
    agent,
    rollout,
    resources: createClient(ResourcesService, transport),
    episodes: createClient(EpisodeService, transport),
    model: createClient(ModelService, transport),
    health,
    run,
    collect: (tasks, opts) => collect({ url, rollout, retry, timeoutMs: clientTimeout }, tasks, opts),
    check,
    close,
  };
}
