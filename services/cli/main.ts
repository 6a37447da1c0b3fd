// The `gym` command. Each command loads what it runs when it runs, so
// `gym --help` and the light commands do not load every kind.
import { Command, InvalidArgumentError } from "commander";
import { createClient, type Client } from "@connectrpc/connect";
import type { RolloutService } from "../../gen/gymmesh/v1/rollout_pb.js";
import type { GymClient } from "../client/index.js";
import { DEFAULT_CONFIG } from "../app/package-root.js";
import type { RunningMesh, StartOptions } from "../app/start.js";
import { ConfigError, UsageError } from "../mesh/errors.js";
import { setDefaultLogLevel } from "../mesh/log.js";
import { checkInput } from "../collect/run-record.js";
import { closeWithin, COLLECT_HELP, collectStop, probeRollout, runCollect, seconds, type CollectCliOptions } from "./collect-command.js";
import { onStopSignals } from "./signals.js";
import { startTracing } from "./telemetry.js";
import { addK8sCommand } from "../k8s/command.js";

const program = new Command("gym")
  .description("gym-mesh: RL environments for LLMs as a gRPC service mesh")
  // A usage mistake (an unknown or missing option, a bad value) exits 2 like the other one-line errors; --help exits 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
};

/** Loads a config and starts its instances (the `only` ones when given). */
async function startFromConfig(file: string, options: StartOptions = {}): Promise<RunningMesh> {
  const [{ loadConfig }, { startMesh }] = await Promise.all([import("../app/config.js"), import("../app/start.js")]);
  return startMesh(loadConfig(file), options);
}

program
  .command("serve")
  .description("start the instances of a config, one port each, until SIGTERM")
  .addHelpText(
    "after",
    "\nThe first SIGTERM or SIGINT drains the calls in flight and exits 0; a second one\n" +
      "exits at once (143 for SIGTERM, 130 for SIGINT). Started by npm (npx gym serve),\n" +
      "it also stops when npm is gone, so no server outlives it.",
  )
  .option("-c, --config <file>", "mesh config (YAML)", DEFAULT_CONFIG)
  .option("--only <names>", "start only these instances (comma-separated); the others are at the config's addresses")
  .option("--host <address>", "address to listen on (0.0.0.0 in a container)", "127.0.0.1")
  .option(
    "--workers <n>",
    "processes that each run the mesh, sharing its ports; a connection's calls stay on one worker, so a session reached over other connections (NeMo Gym's HTTP agents pool theirs) can miss it",
    positiveInt,
    1,
  )
  .action(async (opts: { config: string; only?: string; host: string; workers: number }) => {
    const only = opts.only?.split(",").map((n) => n.trim());
    const { isServeWorker, reportReady, runServePrimary, workerPorts } = await import("./serve-workers.js");
    if (!isServeWorker()) {
      const workers = opts.workers;
      if (workers > 1) {
        const { loadConfig } = await import("../app/config.js");
        const config = loadConfig(opts.config);
        const names = Object.keys(config.instances).filter((n) => !only || only.includes(n));
        for (const name of only ?? []) if (!config.instances[name]) throw new ConfigError(`no instance "${name}" in the config (instances: ${Object.keys(config.instances).join(", ")})`);
        return runServePrimary(config, names, opts.host, workers);
      }
    }
    const stopTracing = await startTracing();
    const mesh = await startFromConfig(opts.config, { host: opts.host, only, ports: workerPorts() });
    const width = Math.max(...mesh.instances.map((i) => i.name.length));
    // The main port (every protocol), then the grpc-js port when the instance has one.
    const lines = mesh.instances.map((inst) => `${inst.name.padEnd(width)}  ${inst.service.padEnd(27)}  ${inst.url}${inst.server.grpcUrl ? `  ${inst.server.grpcUrl}` : ""}`);
    if (!isServeWorker()) for (const line of lines) console.log(line);
    // Before "ready": a supervisor may send SIGTERM the moment it reads that line,
    // and until a listener exists the signal's default action kills the process.
    // A second signal exits at once (signals.ts).
    const drain = () =>
      void mesh
        .close()
        .then(stopTracing)
        .then(() => process.exit(0));
    if (isServeWorker()) {
      // The primary passes the stop on as SIGTERM; Ctrl-C reaches the whole process group, so a
      // worker leaves SIGINT to the primary (else it would count as a second signal and cut the drain).
      process.on("SIGINT", () => {});
      process.once("SIGTERM", drain);
      reportReady(lines);
      return;
    }
    onStopSignals((signal, why) => {
      if (why !== signal) process.stderr.write(`gym: ${why}: stopping\n`);
      drain();
    });
    console.log("ready");
  });

program
  .command("collect")
  .description("run a JSONL dataset of tasks through the mesh and write one line per rollout")
  .requiredOption("-i, --input <file>", "tasks: NeMo Gym JSONL rows with responses_create_params")
  .requiredOption("-o, --output <file>", "rollouts JSONL (failures go to <stem>_failures.jsonl); an existing one is resumed")
  .option("-a, --agent <name>", "agent instance (rows with agent_ref use theirs)")
  .option("--num-repeats <n>", "rollouts per task", positiveInt, 1)
  .option("--num-repeats-add-seed", "set responses_create_params.seed to each repeat's index", false)
  .option("--limit <n>", "only the first n tasks", positiveInt)
  .option("--concurrency <n>", "rollouts in flight at once", positiveInt, 64)
  .option("--fresh", "discard earlier results of this output and start over", false)
  .option("--retry-failed", "run again the rollouts an earlier run of this output recorded as failed", false)
  .option("--drain-timeout-s <s>", "on SIGTERM/SIGINT, how long rollouts in flight may take to finish", seconds, 10)
  .addHelpText("after", COLLECT_HELP)
  .option("-c, --config <file>", "mesh config to start in this process", DEFAULT_CONFIG)
  .option("--url <url>", "use a running rollout service instead of starting the config (sends $GYM_TOKEN as bearer token when set; https:// or grpcs:// for TLS)")
  .option("--ca <file>", "with --url over TLS: the CA certificate to trust (PEM; default the system's)")
  .option("--cert <file>", "with --url over mutual TLS: the client certificate (PEM), with --key")
  .option("--key <file>", "with --url over mutual TLS: the client certificate's key (PEM)")
  .option("--view", "serve the rollouts viewer (gym view) on the output while collecting; it stops at the end", false)
  .option("--workers <n>", "without --url: run the config's mesh in n worker threads, rollouts spread over them (default: one per core)", positiveInt)
  .option("--streams <n>", "with --url: n streams, each on its own connection, rollouts spread over them (to reach every worker of a gym serve --workers n)", positiveInt, 1)
  .action(
    async (opts: CollectCliOptions & { config: string; url?: string; ca?: string; cert?: string; key?: string; view: boolean; workers?: number; streams: number }) => {
      // Per-rollout logs would drown the summary; warnings still show.
      setDefaultLogLevel("warn");
      const stop = collectStop(opts.drainTimeoutS);
      // Nothing starts (and nothing is written) for an input that is not there.
      checkInput(opts.input);
      // Spans (when OTEL_* asks) of the mesh this process starts; the file exporter writes beside the output.
      const stopTracing = await startTracing({ rolloutsFile: opts.output });
      let mesh: RunningMesh | undefined;
      let workers: { close(): Promise<void> } | undefined;
      let client: Pick<Client<typeof RolloutService>, "collect">;
      let remote: GymClient | undefined;
      let extraClients: GymClient[] = [];
      if (!opts.url && opts.streams > 1) throw new UsageError("--streams is for --url (a running mesh); the config's mesh in this process takes --workers");
      if (opts.url && opts.workers !== undefined) throw new UsageError("--workers runs the config's mesh in this process; with --url the mesh runs elsewhere");
      const { defaultWorkers, startMeshWorkers } = opts.url ? ({} as never) : await import("../app/mesh-workers.js");
      const threads = opts.url ? 1 : (opts.workers ?? defaultWorkers());
      if (opts.url) {
        // A running mesh: the same client the package exports (a bad URL is a usage error).
        const [{ createGymClient }, { remoteOptions }] = await Promise.all([import("../client/index.js"), import("../client/remote-options.js")]);
        try {
          remote = createGymClient(opts.url, { ...remoteOptions(opts), ownConnection: opts.streams > 1 });
        } catch (err) {
          throw new UsageError(`--url: ${(err as Error).message}`);
        }
        client = remote.rollout;
        const more: GymClient[] = [];
        if (opts.streams > 1) {
          for (let i = 1; i < opts.streams; i++) more.push(createGymClient(opts.url, { ...remoteOptions(opts), ownConnection: true }));
          const { spreadCollect } = await import("../collect/spread.js");
          client = spreadCollect([remote.rollout, ...more.map((c) => c.rollout)]);
          extraClients = more;
        }
        // Reachable, and the rollout service, before any file is made.
        await probeRollout(remote);
      } else if (threads > 1) {
        // Each worker thread runs the whole mesh; a rollout stays on its worker from start to end.
        const { loadConfig } = await import("../app/config.js");
        loadConfig(opts.config); // a bad config is one clear error here, not one per worker
        const { tracesPathOf } = await import("../viewer/run-files.js");
        const pool = await startMeshWorkers(opts.config, threads, { logLevel: "warn", tracesFile: tracesPathOf(opts.output) });
        workers = pool;
        client = pool;
      } else {
        mesh = await startFromConfig(opts.config);
        const rollout = mesh.instances.find((i) => i.kind === "rollout");
        if (!rollout) throw new ConfigError(`${opts.config}: no instance of kind rollout to collect with`);
        // The mesh runs in this process: collect through the in-process transport.
        const { RolloutService } = await import("../../gen/gymmesh/v1/rollout_pb.js");
        client = createClient(RolloutService, rollout.server.localTransport);
      }
      let code: number;
      let viewer: { url: string; close(): Promise<void> } | undefined;
      try {
        if (opts.view) {
          const { startViewer } = await import("../viewer/index.js");
          viewer = await startViewer({ files: [opts.output], allowMissing: true });
          console.log(`viewer: ${viewer.url}`);
        }
        code = await runCollect(client, opts, stop);
      } finally {
        await viewer?.close();
        remote?.close();
        for (const c of extraClients) c.close();
        await closeWithin(mesh && (() => mesh.close()));
        await closeWithin(workers && (() => workers.close()));
        await stopTracing();
      }
      if (code !== 0) process.exit(code);
    },
  );

program
  .command("reverify")
  .description("recompute the rewards of stored rollouts (no model calls) and compare them with the stored ones")
  .requiredOption("-i, --input <file>", "rollouts JSONL (NeMo Gym rollout lines: the row, response and reward)")
  .requiredOption("-o, --output <file>", "the rollouts with the recomputed reward and verifier fields")
  .option("-e, --env <name>", "the environment (default: from agent_ref or the input's folder)")
  .option("-t, --tasks <file>", "task rows for fields the rollout lines lack (default: the environment's data/example.jsonl)")
  .action(async (opts: { input: string; output: string; env?: string; tasks?: string }) => {
    setDefaultLogLevel("warn");
    const { reverifyFile } = await import("./reverify.js");
    const summary = await reverifyFile(opts);
    console.log(`${summary.matched}/${summary.rows} rewards match the stored ones (${summary.env})`);
    if (summary.tasks) console.log(`task fields: ${summary.tasks}`);
    for (const row of summary.differing) {
      const stored = row.stored === undefined ? "none" : String(row.stored);
      console.log(`  line ${row.line}: stored ${stored}, ${row.error ? `error ${row.error.code}: ${row.error.message}` : `recomputed ${row.reward}`}`);
    }
    console.log(`output: ${opts.output}`);
    if (summary.differing.length > 0) process.exitCode = 1;
  });

program
  .command("envs")
  .description("list the built-in environments with their tools and settings")
  .action(async () => {
    const { describeEnvironments } = await import("./envs.js");
    console.log(describeEnvironments());
  });

program
  .command("agents")
  .description("list the agent kinds an agent instance can be (its `agent:` field)")
  .action(async () => {
    const { describeAgentKinds } = await import("./envs.js");
    console.log(describeAgentKinds());
  });

program
  .command("new-env")
  .description("scaffold a new environment (module, data, verifier cases, README, test) and add it to the mesh")
  .argument("<name>", "snake_case environment name")
  .action(async (name: string) => {
    const { scaffoldEnvironment } = await import("./new-env.js");
    const { dir, files } = scaffoldEnvironment(name);
    console.log(`created ${dir}`);
    for (const file of files) console.log(`  ${file}`);
    console.log(`serve it: npx gym serve --config config/environments.yaml   (agent ${name}_simple_agent)`);
  });

program
  .command("check-data")
  .description("validate a JSONL dataset against an environment; reports bad rows by line number")
  .requiredOption("-e, --env <name>", "the environment")
  .argument("<file>", "dataset JSONL")
  .action(async (file: string, opts: { env: string }) => {
    const { checkDataFile } = await import("./check-data.js");
    const { env, rows, problems } = checkDataFile(opts.env, file);
    const bad = new Set(problems.map((p) => p.line));
    for (const p of problems) console.log(`${file}:${p.line}: ${p.message}`);
    console.log(`${rows - bad.size}/${rows} rows fit ${env}`);
    if (bad.size > 0) process.exitCode = 1;
  });

program
  .command("view")
  .description("look at rollouts in a web page: runs, task groups, transcripts, verifier fields; with two files, the change per task")
  .argument("<file>", "rollouts JSONL (its <stem>_failures.jsonl is read too); followed while it grows")
  .argument("[file2]", "a second rollouts file, compared with the first")
  .option("--port <n>", "port on 127.0.0.1 (0: a free one; default 8750, or a free one when taken)")
  .option("--bundle <dir>", "write the page and the data as a static site that opens from disk, instead of serving")
  .option("--traces <file>", "spans (OTLP-JSON lines, OTEL_TRACES_EXPORTER=file) drawn under each rollout; default <stem>_traces.jsonl beside the file")
  .option("--trace-url <template>", "link each traced rollout to a trace UI: a URL with {trace_id} (default $GYM_TRACE_URL)")
  .action(async (file: string, file2: string | undefined, opts: { port?: string; bundle?: string; traces?: string; traceUrl?: string }) => {
    const { portNumber, runView } = await import("../viewer/command.js");
    const files = file2 ? [file, file2] : [file];
    const port = opts.port === undefined ? undefined : portNumber(opts.port);
    const viewer = await runView(files, { port, bundle: opts.bundle, traces: opts.traces, traceUrl: opts.traceUrl });
    if (!viewer) return;
    onStopSignals(() => void viewer.close().then(() => process.exit(0)));
  });

addK8sCommand(program);

program.parseAsync().catch((err: Error) => {
  // Expected failures (bad config, bad files) read as one line; bugs keep their stack.
  const expected = err instanceof ConfigError || err instanceof UsageError;
  console.error(`gym: ${expected ? err.message.replace(/\s*\n\s*/g, " ") : (err.stack ?? err.message)}`);
  process.exit(expected ? 2 : 1);
});
