// The `gym k8s` command group: `render` writes the manifests of a config.
import type { Command } from "commander";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_IMAGE, DEFAULT_NAMESPACE } from "./defaults.js";

const repeatable = (value: string, previous: string[] = []) => [...previous, value];

/** Adds `k8s` to the `gym` program (as a subcommand, so it inherits the program's exit codes: usage mistakes exit 2). */
export function addK8sCommand(program: Command): Command {
  const k8s = program.command("k8s").description("Kubernetes manifests for a mesh config");
  k8s
    .command("render")
    .description("write a kustomize base (a Deployment, headless Service and PodDisruptionBudget per instance; the config as a ConfigMap) and an example overlay")
    .requiredOption("-c, --config <file>", "mesh config (YAML)")
    .requiredOption("-o, --out <dir>", "output folder: base/ and overlays/example/ (a new or empty folder, or an earlier render)")
    .option("--image <ref>", "container image (its entrypoint is gym)", DEFAULT_IMAGE)
    .option("-n, --namespace <ns>", "namespace of every object and of the in-cluster addresses", DEFAULT_NAMESPACE)
    .option("--replicas <name=n>", "pods of an instance (repeatable; default 1)", repeatable)
    .option("--cluster-domain <domain>", "the cluster's DNS domain, for the addresses", DEFAULT_CLUSTER_DOMAIN)
    .addHelpText("after", "\nSecrets are never rendered: base/README.md says which to create. Validate with scripts/validate-manifests.sh DIR.")
    .action(async (opts: { config: string; out: string; image: string; namespace: string; replicas?: string[]; clusterDomain: string }) => {
      // Loaded here: the renderer loads every kind, which `gym --help` does not need.
      const { render, writeRendered } = await import("./render.js");
      const rendered = render({ config: opts.config, image: opts.image, namespace: opts.namespace, replicas: opts.replicas, clusterDomain: opts.clusterDomain });
      writeRendered(opts.out, rendered);
      for (const warning of rendered.warnings) process.stderr.write(`gym: warning: ${warning}\n`);
      for (const file of rendered.files.keys()) console.log(`${opts.out.replace(/\/+$/, "")}/${file}`);
      const pods = rendered.plan.instances.map((i) => `${i.dns}=${rendered.replicas.get(i.name) ?? 1}`).join(" ");
      console.log(`${rendered.plan.instances.length} instances in namespace ${opts.namespace} (${pods}); apply: kubectl apply -k ${opts.out.replace(/\/+$/, "")}/base`);
    });
  return k8s;
}
