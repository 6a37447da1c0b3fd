// NeMo Gym's task rows and recorded rollouts, as the tests read them (see README.md):
// every file listed in files.txt, found here or in its ported environment's data/.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const NEMO_GYM_DATA = path.dirname(fileURLToPath(import.meta.url));
const ENVIRONMENTS = path.resolve(NEMO_GYM_DATA, "../../../services/environments");

export interface NemoGymFile {
  /** `<environment>/<file>`, as in NeMo Gym. */
  name: string;
  /** Where it is in this repository. */
  file: string;
}

/** Every listed file, sorted by name; throws when one is missing, is in two places, or a fixture here is not listed. */
export function nemoGymFiles(): NemoGymFile[] {
  const names = fs
    .readFileSync(path.join(NEMO_GYM_DATA, "files.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const files = names.map((name) => {
    const [env, ...rest] = name.split("/");
    const fixture = path.join(NEMO_GYM_DATA, name);
    const ported = path.join(ENVIRONMENTS, env!, "data", ...rest);
    const inFixtures = fs.existsSync(fixture);
    const inEnvironment = fs.existsSync(ported);
    if (inFixtures && inEnvironment) throw new Error(`NeMo Gym data ${name} is in both ${fixture} and ${ported}: keep only the environment's copy`);
    if (!inFixtures && !inEnvironment) throw new Error(`NeMo Gym data ${name} is missing: neither ${fixture} nor ${ported} exists`);
    return { name, file: inFixtures ? fixture : ported };
  });
  const listed = new Set(names);
  const unlisted = jsonlUnder(NEMO_GYM_DATA).filter((rel) => !listed.has(rel));
  if (unlisted.length > 0) throw new Error(`NeMo Gym data not listed in ${path.join(NEMO_GYM_DATA, "files.txt")}: ${unlisted.join(", ")}`);
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function jsonlUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...jsonlUnder(path.join(dir, e.name), `${rel}/`));
    else if (e.name.endsWith(".jsonl")) out.push(rel);
  }
  return out;
}
