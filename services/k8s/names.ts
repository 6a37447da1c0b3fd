// Kubernetes names for the instances of a config. Instance names are
// snake_case (`example_single_tool_call_simple_agent`); Kubernetes object
// names and the DNS names of Services are DNS-1123 labels: lower-case
// letters, digits and `-`, at most 63 characters. Each instance gets one
// name, used for its Deployment, Service and PodDisruptionBudget and in the
// other instances' addresses, so it must be unique.
import { createHash } from "node:crypto";
import { ConfigError } from "../mesh/errors.js";

/** A DNS-1123 label (RFC 1123), also a valid DNS-1035 label when it starts with a letter (Service names must). */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_LABEL = 63;

/**
 * `example_single_tool_call` -> `example-single-tool-call`. A name longer than
 * 63 characters keeps its start and ends with a short hash of the whole name,
 * so two long names that share their first 56 characters stay apart.
 */
export function dnsName(instance: string): string {
  const mapped = instance.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  if (mapped.length <= MAX_LABEL) return mapped;
  const hash = createHash("sha256").update(instance).digest("hex").slice(0, 6);
  return `${mapped.slice(0, MAX_LABEL - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** Every instance's Kubernetes name; two instances that map to one name are refused, naming both. */
export function dnsNames(instances: readonly string[], file: string): Map<string, string> {
  const byDns = new Map<string, string>();
  const names = new Map<string, string>();
  for (const instance of instances) {
    const name = dnsName(instance);
    if (!DNS_LABEL.test(name)) throw new ConfigError(`${file}: instances.${instance}: no Kubernetes name can be made of it (got "${name}")`);
    const other = byDns.get(name);
    if (other !== undefined) {
      throw new ConfigError(`${file}: instances ${other} and ${instance} would both be named "${name}" in Kubernetes (\`_\` becomes \`-\`): rename one`);
    }
    byDns.set(name, instance);
    names.set(instance, name);
  }
  return names;
}
