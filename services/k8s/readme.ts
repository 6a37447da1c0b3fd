// base/README.md of a render: how to apply it and why it is built the way it is.
import { addressOf, GRPC_PORT, HTTP_PORT, type MeshPlan } from "./mesh-config.js";
import { ENV_CONFIG_MAP, GRACE_MARGIN_S, PRE_STOP_SLEEP_S, SECRET, TLS_SECRET, TOKEN_SECRET } from "./objects.js";

export function baseReadme(at: { plan: MeshPlan; namespace: string; clusterDomain: string; image: string; source: string }): string {
  const { plan, namespace, clusterDomain, image, source } = at;
  const tls = plan.security?.tls !== undefined;
  const secrets = new Set<string>();
  for (const inst of plan.instances) for (const v of inst.variables) if (v.secret) secrets.add(v.name);
  const rollout = plan.instances.find((i) => i.kind === "rollout");
  const lines = [
    "# gym-mesh on Kubernetes",
    "",
    `Rendered by \`gym k8s render\` from \`${source}\`: render again rather than edit these files, and change`,
    "things in an overlay (`../overlays/example` is one; a render replaces it, so copy it to make your own).",
    "",
    "## Apply",
    "",
    "```sh",
    `kubectl create namespace ${namespace}        # not rendered: the kustomization only sets it on every object`,
    ...(secrets.size > 0 ? [`kubectl -n ${namespace} create secret generic ${SECRET} ${[...secrets].map((s) => `--from-literal=${s}=...`).join(" ")}`] : []),
    ...(plan.security?.tokenFile ? [`kubectl -n ${namespace} create secret generic ${TOKEN_SECRET} --from-file=token=PATH`] : []),
    ...(tls ? [`kubectl -n ${namespace} create secret generic ${TLS_SECRET} --from-file=tls.crt --from-file=tls.key${plan.security!.tls!.ca ? " --from-file=ca.crt" : ""}`] : []),
    "kubectl apply -k .                     # this folder; or: kubectl apply -k ../overlays/example",
    "```",
    "",
    `The image (\`${image}\`) is the gym-mesh image, whose entrypoint is \`gym\`; each pod runs`,
    "`gym serve --only INSTANCE --host 0.0.0.0 --config /etc/gym/config.yaml` as uid 10001 on a read-only root",
    "filesystem (with a writable /tmp). Kubernetes 1.30 or newer (the preStop `sleep` action, gRPC probes); the objects",
    "are checked against the 1.33 API schemas.",
    "",
    "## How it is wired",
    "",
    `- **One Deployment, Service and PodDisruptionBudget per instance**, named after it with \`_\` as \`-\`. Every pod listens on`,
    `  ${HTTP_PORT} (\`http\`: gRPC, gRPC-Web, Connect, HTTP, /metrics) and, for gRPC instances, ${GRPC_PORT} (\`grpc\`: plain gRPC, grpc-js).`,
    "- **Addresses.** The ConfigMap `gym-config` holds the config with fixed ports and an `addresses:` section: gRPC instances",
    `  at their headless Service's grpc port (e.g. \`${plan.instances.find((i) => i.grpc) ? addressOf(plan.instances.find((i) => i.grpc)!, namespace, clusterDomain, tls) : "grpc://NAME.NAMESPACE.svc.cluster.local:9090"}\`), whose DNS name resolves to every ready pod;`,
    "  HTTP-only instances (the mock model, which a model instance calls over HTTP) at their main port. The namespace is part of",
    "  these names: use `--namespace` to render for another one, and no `namespace`, `namePrefix` or `nameSuffix` in overlays.",
    "- **Probes.** Startup, readiness and liveness ask grpc.health.v1 with the kubelet's own gRPC probe, on the grpc port (the",
    "  main port for HTTP-only instances)." +
      (tls ? " With TLS they check only that the port accepts connections: the kubelet's gRPC probe speaks clear text." : ""),
    `- **Shutdown.** A ${PRE_STOP_SLEEP_S} s preStop sleep lets endpoints and DNS drop the pod; then SIGTERM makes health NOT_SERVING and`,
    `  gives calls in flight \`limits.drain_timeout_s\` (20 s by default); \`terminationGracePeriodSeconds\` is both plus ${GRACE_MARGIN_S} s.`,
    "- **Disruptions.** Each PodDisruptionBudget lets one pod at a time be evicted, and unready pods always.",
    "- **Variables.** `${VAR}` references stay in the config as written; each pod gets the ones its instance uses (and",
    `  \`security:\`'s): secret ones (API keys, tokens, header values) from the Secret \`${SECRET}\`, optional where the config has a`,
    `  default; the others from the ConfigMap \`${ENV_CONFIG_MAP}\` (optional, so the config's defaults apply). Only a changed`,
    "  `gym-config` rolls the pods (its hash is on the pod template); after changing `gym-env` or a Secret:",
    "  `kubectl rollout restart deployment -l app.kubernetes.io/part-of=gym-mesh`.",
    `- **Files.** \`security.token_file\` and \`security.tls\` files come from the Secrets \`${TOKEN_SECRET}\` (key \`token\`) and`,
    `  \`${TLS_SECRET}\` (\`tls.crt\`, \`tls.key\`, \`ca.crt\`: what cert-manager writes), mounted read-only under /var/run/secrets/gym;`,
    `  the config points there. A TLS certificate must name the Services (\`*.${namespace}.svc.${clusterDomain}\`).`,
    ...(rollout
      ? [
          `- **Entry point.** Trainers and \`gym collect --url\` reach the rollout service at \`${addressOf(rollout, namespace, clusterDomain, tls)}\``,
          `  in the cluster; from outside, e.g. \`kubectl -n ${namespace} port-forward svc/${rollout.dns} ${GRPC_PORT}\`, or add your own Service or Gateway.`,
        ]
      : []),
    "",
    "## Check",
    "",
    "```sh",
    "scripts/validate-manifests.sh DIR     # every object, base and overlays, against the Kubernetes API schemas (offline)",
    "```",
    "",
  ];
  return lines.join("\n");
}
