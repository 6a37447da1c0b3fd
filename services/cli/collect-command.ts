// `gym collect`'s run around the collector: the check of a remote rollout
// service before anything is written, stopping on SIGTERM/SIGINT, the summary
// and the exit code.
import { InvalidArgumentError } from "commander";
import type { Client } from "@connectrpc/connect";
import { ConnectError, Code } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import type { GymClient } from "../client/index.js";
import { metricsTable } from "../collect/aggregate.js";
import { collectFile } from "../collect/collector.js";
import { codeName } from "../mesh/codes.js";
import { UsageError } from "../mesh/errors.js";
import { setDefaultLogLevel } from "../mesh/log.js";
import { onStopSignals, SIGNAL_EXIT, type StopSignal } from "./signals.js";

export const COLLECT_HELP = `
Stopping: the first SIGTERM or SIGINT (Ctrl-C) sends no new rollouts, gives
those in flight up to --drain-timeout-s, writes what finished and the metrics,
and exits 143 (SIGTERM) or 130 (SIGINT); a second signal exits at once. Either
way the output stays resumable: run the same command again.

One gym collect per output: it holds <stem>.lock beside the output while it
runs; a second one on the same output is refused (exit 2), naming the first.

Exit codes:
  0    done (failed rollouts are recorded in <stem>_failures.jsonl, not an error)
  1    a bug (the message has its stack)
  2    a usage or setup error, in one line: a bad option or --url, a rollout
       service that cannot be reached, a missing input, an output another
       gym collect is writing, a full disk, a stream that failed for good
  130  stopped by SIGINT, 143 stopped by SIGTERM (run again to resume)`;

/** A --drain-timeout-s value: seconds, 0 or more. */
export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("want seconds (0 or more)");
  return n;
}

export interface CollectStop {
  /** Aborted at the first signal once rollouts are being collected. */
  readonly signal: AbortSignal;
  /** The signal that stopped the run, if any. */
  readonly by: StopSignal | undefined;
  /** From now on a first signal stops the run cleanly; before, it exits at once (nothing is written yet). */
  collecting(): void;
}

/** Installs `gym collect`'s signal handling: see COLLECT_HELP. */
export function collectStop(drainTimeoutS: number): CollectStop {
  const stop = new AbortController();
  let by: StopSignal | undefined;
  let collecting = false;
  onStopSignals((signal, why) => {
    by = signal;
    if (!collecting) {
      process.stderr.write(`gym: ${why}: stopping before any rollout was sent\n`);
      process.exit(SIGNAL_EXIT[signal]);
    }
    setDefaultLogLevel("error"); // the rollouts cut short warn of their cancellation: expected now
    process.stderr.write(
      `gym: ${why}: sending no new rollouts; waiting up to ${drainTimeoutS} s for those in flight, then writing what finished (${signal} again exits at once)\n`,
    );
    stop.abort();
  });
  return {
    signal: stop.signal,
    get by() {
      return by;
    },
    collecting() {
      collecting = true;
    },
  };
}

/**
 * Checks, before anything is written, that the rollout service at the URL
 * answers (a short deadline): one-line errors for a URL nothing listens on,
 * one that is not the rollout instance, one that is shutting down.
 */
export async function probeRollout(remote: GymClient, timeoutMs = 5_000): Promise<void> {
  const service = RolloutService.typeName;
  let status: HealthCheckResponse_ServingStatus;
  try {
    ({ status } = await remote.health.check({ service }, { timeoutMs }));
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.NotFound || e.code === Code.Unimplemented) {
      throw new UsageError(`--url ${remote.url} is not the rollout service (it does not serve ${service}): pass the rollout instance's URL, as gym serve prints it`);
    }
    if (e.code === Code.Unavailable || e.code === Code.DeadlineExceeded) {
      const why = e.code === Code.DeadlineExceeded ? `no answer within ${timeoutMs / 1000} s` : `${codeName(e.code)}: ${e.rawMessage}`;
      throw new UsageError(`cannot reach the rollout service at ${remote.url} (${why}); is gym serve running there?`);
    }
    throw new UsageError(`--url ${remote.url}: the health check failed: ${codeName(e.code)}: ${e.rawMessage}`);
  }
  if (status !== HealthCheckResponse_ServingStatus.SERVING) {
    throw new UsageError(`the rollout service at ${remote.url} is not serving (${HealthCheckResponse_ServingStatus[status]}: shutting down?); try again when it is up`);
  }
}

export interface CollectCliOptions {
  input: string;
  output: string;
  agent?: string;
  numRepeats: number;
  numRepeatsAddSeed: boolean;
  limit?: number;
  concurrency: number;
  retryFailed: boolean;
  fresh: boolean;
  drainTimeoutS: number;
}

/** Runs the collection and prints its summary; returns the exit code (0, or 130/143 when a signal stopped it). */
export async function runCollect(client: Pick<Client<typeof RolloutService>, "collect">, opts: CollectCliOptions, stop: CollectStop): Promise<number> {
  stop.collecting();
  const summary = await collectFile({
    client,
    agent: opts.agent,
    input: opts.input,
    output: opts.output,
    numRepeats: opts.numRepeats,
    numRepeatsAddSeed: opts.numRepeatsAddSeed,
    limit: opts.limit,
    concurrency: opts.concurrency,
    retryFailed: opts.retryFailed,
    fresh: opts.fresh,
    stop: stop.signal,
    drainTimeoutMs: opts.drainTimeoutS * 1000,
  });
  console.log(
    `${summary.rollouts} rollouts, mean reward ${summary.meanReward.toFixed(4)}, ` +
      `${summary.failures} failed, ${(summary.elapsedMs / 1000).toFixed(2)} s` +
      (summary.resumed ? ` (${summary.resumed} already done, skipped)` : ""),
  );
  console.log(`\n${metricsTable(summary.metrics)}\n`);
  console.log(`rollouts: ${summary.files.output}`);
  if (summary.failures > 0) console.log(`failures: ${summary.files.failures}`);
  console.log(`metrics:  ${summary.files.metrics}`);
  const n = summary.recordedFailures;
  if (n > 0) console.log(`${n} failure${n === 1 ? "" : "s"} recorded in ${summary.files.failures}: run again with --retry-failed to retry them`);
  if (!summary.interrupted || !stop.by) return 0;
  const left = summary.abandoned ? `; ${summary.abandoned} rollouts still in flight were dropped` : "";
  console.error(`gym: interrupted by ${stop.by}${left}; run the same command again to resume`);
  return SIGNAL_EXIT[stop.by];
}

/** Closes the in-process mesh, waiting at most `ms` (its rollouts were ended with the stream). */
export async function closeWithin(close: (() => Promise<void>) | undefined, ms = 10_000): Promise<void> {
  if (!close) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
