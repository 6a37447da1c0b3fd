// Every kind of instance a config can name, in start order (an instance's
// peers start before it). Adding a kind is a folder with its kind.ts plus
// one line here.
import { agentKind } from "../agent/kind.js";
import { environments } from "../environments/index.js";
import type { InstanceKind } from "../mesh/kind.js";
import { mockModelKind } from "../mock-model/kind.js";
import { modelKind } from "../model/kind.js";
import { nemoGymResourcesKind } from "../nemo-gym/kind.js";
import { resourcesKind } from "../resources/kind.js";
import { rolloutKind } from "../rollout/kind.js";

export const KINDS: readonly InstanceKind[] = [
  mockModelKind,
  modelKind,
  resourcesKind(environments),
  nemoGymResourcesKind,
  agentKind(environments),
  rolloutKind,
];

export function kindOf(name: string): InstanceKind | undefined {
  return KINDS.find((k) => k.kind === name);
}
