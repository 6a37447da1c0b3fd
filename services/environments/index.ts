// The environment registry: every folder here with an `environment.ts` (or,
// compiled, `environment.js`) whose default export is the environment, found
// by folder as NeMo Gym finds its servers. Adding one is adding a folder.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Environment, EnvironmentRegistry } from "../resources/environment.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

async function discover(): Promise<EnvironmentRegistry> {
  const modules = fs
    .readdirSync(HERE, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => {
      const file = ["environment.ts", "environment.js"].map((f) => path.join(HERE, d.name, f)).find((f) => fs.existsSync(f));
      return file ? [{ folder: d.name, file }] : [];
    });
  const found: Record<string, Environment<any>> = {};
  for (const { folder, file } of modules) {
    const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { default?: Environment<any> };
    const env = module.default;
    if (!env || typeof env.verify !== "function") throw new Error(`services/environments/${folder}/environment: its default export must be the environment`);
    if (env.name !== folder) throw new Error(`services/environments/${folder}/environment: named "${env.name}", but its folder is ${folder}`);
    found[env.name] = env;
  }
  return found;
}

/** The built-in environments, by name. */
export const environments: EnvironmentRegistry = await discover();
