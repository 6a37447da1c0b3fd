// Runs every environment's data/verify_cases.jsonl: each case's task row and
// response through the environment's ResourcesService host, against the
// reward (and fields) or the error NeMo Gym's current code gives.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Environment } from "../resources/environment.js";
import { mismatch, parseCases, runCase } from "../resources/verify-cases.js";
import { environments } from "./index.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const withCases = fs
  .readdirSync(HERE, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(HERE, d.name, "data", "verify_cases.jsonl")))
  .map((d) => d.name)
  .sort();

/** The registered environment, or the one its folder's environment.ts exports (not yet registered). */
async function environmentOf(dir: string): Promise<Environment<any>> {
  if (environments[dir]) return environments[dir];
  const mod = (await import(path.join(HERE, dir, "environment.ts"))) as Record<string, unknown>;
  const env = Object.values(mod).find((v): v is Environment<any> => !!v && typeof v === "object" && (v as Environment).name === dir);
  if (!env) throw new Error(`${dir}/environment.ts exports no environment named "${dir}"`);
  return env;
}

describe("verifier cases", () => {
  it("exist for every environment in the registry", () => {
    expect(Object.keys(environments).filter((name) => !withCases.includes(name))).toEqual([]);
  });

  for (const dir of withCases) {
    describe(dir, () => {
      const file = path.join(HERE, dir, "data", "verify_cases.jsonl");
      const cases = parseCases(fs.readFileSync(file, "utf8"), file);

      it("cover a full-reward, a zero-reward and a malformed case", () => {
        const kinds = new Set(cases.map((c) => c.kind));
        expect([...kinds].filter((k) => k !== "edge").sort()).toEqual(["full_reward", "malformed", "zero_reward"]);
      });

      for (const c of cases) {
        it(`${c.name} (line ${c.line})`, async () => {
          const env = await environmentOf(dir);
          const outcome = await runCase(env, c);
          expect(mismatch(c, outcome), JSON.stringify(outcome)).toBeUndefined();
        });
      }
    });
  }
});
