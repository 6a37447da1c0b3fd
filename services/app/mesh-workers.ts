// `gym collect --workers N`: the config's mesh in N worker threads (one
// Node event loop uses at most about one core), behind one RolloutService
// `collect` the collector calls as it would call a single mesh
// (collect/spread.ts: each request goes whole to the least busy worker and
// runs there from start to end, so sessions stay on the worker that holds
// them). Requests and results cross threads as protobuf bytes.
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { CollectRequestSchema, CollectResponseSchema, type CollectResponse } from "../../gen/gymmesh/v1/rollout_pb.js";
import { spreadCollect, type CollectClient, type SpreadCollect } from "../collect/spread.js";
import { AsyncQueue } from "../mesh/async-queue.js";
import type { LogLevel } from "../mesh/log.js";

/** What a worker needs to start (workerData). */
export interface WorkerData {
  config: string;
  logLevel?: LogLevel;
  tracesFile?: string;
}

export type FromParent =
  | { type: "request"; call: number; bytes: Uint8Array }
  | { type: "end"; call: number }
  | { type: "abort"; call: number }
  | { type: "close" };

export type ToParent =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "response"; call: number; bytes: Uint8Array }
  | { type: "done"; call: number; error?: { code: Code; message: string } };

/** The default number of workers: one per core. */
export function defaultWorkers(): number {
  return os.availableParallelism();
}

export interface MeshWorkers extends SpreadCollect {
  readonly size: number;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  /** Why it stopped, once it did. */
  gone?: string;
}

/** Starts `n` workers, each with the whole mesh of `config`, and resolves once all are up. */
export async function startMeshWorkers(config: string, n: number, data: Omit<WorkerData, "config"> = {}): Promise<MeshWorkers> {
  const slots = await Promise.all(Array.from({ length: n }, () => startWorker({ config, ...data })));
  const spread = spreadCollect(
    slots.map(workerCollect),
    (i) => slots[i]!.gone,
  );
  return {
    size: n,
    ...spread,
    close: async () => {
      await Promise.all(
        slots.map(
          (slot) =>
            new Promise<void>((resolve) => {
              if (slot.gone) return resolve();
              // Closed by the worker once its mesh has drained; terminated if it takes too long.
              const timer = setTimeout(() => void slot.worker.terminate(), 15_000);
              slot.worker.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
              post(slot, { type: "close" });
            }),
        ),
      );
    },
  };
}

let nextCall = 0;

/** One worker's Collect: a stream of this thread's requests to the in-process Collect there. */
function workerCollect(slot: Slot): CollectClient {
  return {
    async *collect(requests, options: CallOptions = {}) {
      const call = nextCall++;
      const results = new AsyncQueue<CollectResponse>();
      const onMessage = (message: ToParent) => {
        if (message.type === "response" && message.call === call) results.push(fromBinary(CollectResponseSchema, message.bytes));
        else if (message.type === "done" && message.call === call) {
          if (message.error) results.fail(new ConnectError(message.error.message, message.error.code));
          else results.end();
        }
      };
      // A worker that dies fails its streams: UNAVAILABLE, the collector sends the unanswered rollouts again.
      const onExit = (code: number) => results.fail(new ConnectError(`a mesh worker stopped (${slot.gone ?? `exit code ${code}`})`, Code.Unavailable));
      const onAbort = () => post(slot, { type: "abort", call });
      slot.worker.on("message", onMessage);
      slot.worker.on("exit", onExit);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const pump = (async () => {
        for await (const init of requests) post(slot, { type: "request", call, bytes: toBinary(CollectRequestSchema, create(CollectRequestSchema, init)) });
        post(slot, { type: "end", call });
      })();
      pump.catch((err) => results.fail(ConnectError.from(err)));
      try {
        yield* results;
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
        slot.worker.off("message", onMessage);
        slot.worker.off("exit", onExit);
        post(slot, { type: "abort", call }); // a no-op for a stream that ended
      }
    },
  };
}

function post(slot: Slot, message: FromParent): void {
  if (!slot.gone) slot.worker.postMessage(message);
}

/** One worker thread, resolved once its mesh is up. */
function startWorker(data: WorkerData): Promise<Slot> {
  const worker = newWorker(data);
  return new Promise((resolve, reject) => {
    const onMessage = (message: ToParent) => {
      if (message.type === "ready") {
        cleanup();
        const slot: Slot = { worker };
        worker.on("error", (err) => (slot.gone ??= err.message));
        worker.on("exit", (code) => (slot.gone ??= `exit code ${code}`));
        resolve(slot);
      } else if (message.type === "failed") {
        cleanup();
        void worker.terminate();
        reject(new Error(message.message));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`a mesh worker exited while starting (code ${code})`));
    };
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/** The worker's module, compiled (dist/) or, when this runs from the sources, through tsx as the gym command does. */
function newWorker(data: WorkerData): Worker {
  const fromSources = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSources ? "./mesh-worker.ts" : "./mesh-worker.js", import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData: data });
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}
