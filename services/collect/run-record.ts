// What makes an output file belong to one collection run: the input's
// content, the agent, the repeats and the limit. Kept beside the output as
// `<stem>_run.json`; a resumed run must match it, so rollouts of two
// different runs never mix in one file.
import { UsageError } from "../mesh/errors.js";
import { createHash } from "node:crypto";
import * as fs from "node:fs";

export interface RunRecord {
  input_sha256: string;
  agent: string | null;
  num_repeats: number;
  num_repeats_add_seed: boolean;
  limit: number | null;
}

export function runRecord(input: string, fields: Omit<RunRecord, "input_sha256">): RunRecord {
  return { input_sha256: createHash("sha256").update(fs.readFileSync(input)).digest("hex"), ...fields };
}

/**
 * Starts or resumes a run. Returns true when earlier results of the same run
 * exist; throws with the differing field when the files belong to another run.
 */
export function claimOutput(recordFile: string, outputs: string[], wanted: RunRecord): boolean {
  const hasResults = outputs.some((f) => fs.existsSync(f) && fs.statSync(f).size > 0);
  if (!fs.existsSync(recordFile)) {
    if (hasResults) {
      throw new UsageError(`${outputs[0]} already holds results of an unknown run (no ${recordFile}); choose another --output or remove it`);
    }
    fs.writeFileSync(recordFile, JSON.stringify(wanted, null, 2) + "\n");
    return false;
  }
  const found = JSON.parse(fs.readFileSync(recordFile, "utf8")) as RunRecord;
  for (const key of Object.keys(wanted) as (keyof RunRecord)[]) {
    if (JSON.stringify(found[key]) !== JSON.stringify(wanted[key])) {
      const what = key === "input_sha256" ? "another input" : `${key}=${JSON.stringify(found[key])}`;
      throw new UsageError(
        `${outputs[0]} belongs to another run (${what}; this run has ${key === "input_sha256" ? "a different input" : `${key}=${JSON.stringify(wanted[key])}`}); choose another --output or remove it`,
      );
    }
  }
  return hasResults;
}
