// `gym serve --workers N`: N processes (node:cluster) each running the whole
// mesh of the config, sharing its listening ports: the primary accepts the
// connections and hands them to the workers in turn. Every call of a
// connection goes to one worker, and the calls a rollout makes between
// instances stay in that worker's process, so sessions stay on the worker
// that holds them. A client spreads its rollouts by opening several
// connections (`gym collect --url ... --streams N`).
//
// The primary picks the ports (the config's, free ones for the rest) before
// forking, so every worker listens on the same ones; it prints the instance
// lines and "ready" once every worker is up, passes SIGTERM/SIGINT on (each
// worker drains as a single `gym serve` does) and starts a worker again
// when one dies (at most MAX_RESTARTS a minute).
import cluster, { type Worker } from "node:cluster";
import * as net from "node:net";
import type { MeshConfig } from "../app/config.js";
import { onStopSignals } from "./signals.js";

const PORTS_ENV = "GYM_SERVE_WORKER_PORTS";
const MAX_RESTARTS = 5;

export type InstancePorts = Record<string, { port: number; grpcPort: number }>;

/** In a worker: the ports the primary chose (undefined in a primary or a single process). */
export function workerPorts(): InstancePorts | undefined {
  return cluster.isWorker && process.env[PORTS_ENV] ? (JSON.parse(process.env[PORTS_ENV]) as InstancePorts) : undefined;
}

/** In a worker: tells the primary its mesh is up, with the lines a single gym serve prints. */
export function reportReady(lines: string[]): void {
  process.send?.({ type: "ready", lines });
}

export const isServeWorker = () => cluster.isWorker;

/** The primary: forks the workers and supervises them until a stop signal; never returns. */
export async function runServePrimary(config: MeshConfig, names: string[], host: string, workers: number): Promise<void> {
  const ports: InstancePorts = {};
  for (const name of names) {
    const inst = config.instances[name]!;
    ports[name] = {
      port: inst.port ?? (await freePort(host)),
      grpcPort: ("grpc_port" in inst ? inst.grpc_port : undefined) ?? (await freePort(host)),
    };
  }
  const env = { [PORTS_ENV]: JSON.stringify(ports) };
  let stopping = false;
  const restarts: number[] = [];
  const ready = new Set<Worker>();
  let printed = false;

  const fork = () => {
    const worker = cluster.fork(env);
    worker.on("message", (message: { type?: string; lines?: string[] }) => {
      if (message.type !== "ready") return;
      ready.add(worker);
      if (!printed && ready.size === workers) {
        printed = true;
        for (const line of message.lines ?? []) console.log(line);
        console.log("ready");
      }
    });
    worker.on("exit", (code, signal) => {
      ready.delete(worker);
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
      if (!printed || restarts.length > MAX_RESTARTS) {
        process.stderr.write(`gym: a serve worker exited (${signal ?? `code ${code}`})${printed ? `, ${restarts.length} times within a minute` : " while starting"}: stopping\n`);
        stopAll(1);
        return;
      }
      process.stderr.write(`gym: a serve worker exited (${signal ?? `code ${code}`}): starting another\n`);
      fork();
    });
  };

  const stopAll = (exitCode: number, signal: NodeJS.Signals = "SIGTERM") => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    if (alive.length === 0) process.exit(exitCode);
    let left = alive.length;
    for (const w of alive) {
      w.once("exit", () => {
        if (--left === 0) process.exit(exitCode);
      });
      w.process.kill(signal);
    }
  };

  // Before the first worker: a signal now stops everything cleanly; a second one exits at once.
  onStopSignals((signal, why) => {
    if (why !== signal) process.stderr.write(`gym: ${why}: stopping\n`);
    stopAll(0, signal);
  });
  for (let i = 0; i < workers; i++) fork();
  await new Promise(() => {});
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

