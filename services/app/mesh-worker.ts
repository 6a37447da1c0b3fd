// One worker thread of `gym collect --workers N` (app/mesh-workers.ts): the
// whole mesh of the config in this thread, on free ports, and one in-process
// Collect stream per collect call of the parent. A rollout runs from start to
// end here, so its session never leaves the thread that holds it.
import { parentPort, workerData } from "node:worker_threads";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { CollectRequestSchema, CollectResponseSchema, RolloutService, type CollectRequest } from "../../gen/gymmesh/v1/rollout_pb.js";
import { AsyncQueue } from "../mesh/async-queue.js";
import { setDefaultLogLevel } from "../mesh/log.js";
import { loadConfig } from "./config.js";
import { startMesh } from "./start.js";
import type { FromParent, ToParent, WorkerData } from "./mesh-workers.js";

const port = parentPort!;
const data = workerData as WorkerData;
const send = (message: ToParent) => port.postMessage(message);

interface Call {
  requests: AsyncQueue<CollectRequest>;
  abort: AbortController;
}

async function main(): Promise<void> {
  if (data.logLevel) setDefaultLogLevel(data.logLevel);
  const stopTracing = await startTracing();
  const mesh = await startMesh(loadConfig(data.config), { freePorts: true });
  const rollout = mesh.instances.find((i) => i.kind === "rollout");
  if (!rollout) throw new Error(`${data.config}: no instance of kind rollout to collect with`);
  const client = createClient(RolloutService, rollout.server.localTransport);
  const calls = new Map<number, Call>();

  const run = async (id: number, call: Call) => {
    try {
      for await (const res of client.collect(call.requests, { signal: call.abort.signal })) {
        send({ type: "response", call: id, bytes: toBinary(CollectResponseSchema, res) });
      }
      send({ type: "done", call: id });
    } catch (err) {
      const e = ConnectError.from(err);
      send({ type: "done", call: id, error: { code: e.code, message: e.rawMessage } });
    } finally {
      calls.delete(id);
    }
  };

  port.on("message", (message: FromParent) => {
    switch (message.type) {
      case "request": {
        let call = calls.get(message.call);
        if (!call) {
          call = { requests: new AsyncQueue(), abort: new AbortController() };
          calls.set(message.call, call);
          void run(message.call, call);
        }
        call.requests.push(fromBinary(CollectRequestSchema, message.bytes));
        break;
      }
      case "end":
        calls.get(message.call)?.requests.end();
        break;
      case "abort":
        calls.get(message.call)?.abort.abort(new ConnectError("the collect call was cancelled", Code.Canceled));
        break;
      case "close":
        for (const call of calls.values()) call.abort.abort();
        void mesh
          .close()
          .then(stopTracing)
          .finally(() => port.close());
        break;
    }
  });
  send({ type: "ready" });
}

/** Spans of this thread's mesh, when the parent's environment asks for them (as `gym collect` itself). */
async function startTracing(): Promise<() => Promise<void>> {
  const env = process.env;
  if (!env.OTEL_TRACES_EXPORTER && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return async () => {};
  const { setupTelemetry } = await import("./telemetry-setup.js");
  const telemetry = await setupTelemetry({ defaultFile: data.tracesFile });
  return telemetry ? () => telemetry.shutdown().catch(() => {}) : async () => {};
}

main().catch((err: Error) => send({ type: "failed", message: err.message }));
