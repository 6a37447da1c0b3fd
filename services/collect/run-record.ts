// What makes an output file belong to one collection run: the input's
// content, the agent, the repeats and the limit. Kept beside the output as
// `<stem>_run.json` (written atomically); a resumed run must match it, so
// rollouts of two different runs never mix in one file.
import { UsageError } from "../mesh/errors.js";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { fileError, writeFileAtomic } from "./files.js";

export interface RunRecord {
  input_sha256: string;
  agent: string | null;
  num_repeats: number;
  num_repeats_add_seed: boolean;
  limit: number | null;
}

export interface InputScan {
  sha256: string;
  /** Rows (non-blank lines), at most `limit`. */
  rows: number;
}

const BLANK = new Set([0x20, 0x09, 0x0d, 0x0b, 0x0c]);

/**
 * One streaming pass over the input (nothing parsed, nothing kept): its
 * SHA-256 and how many rows it has. Throws a one-line UsageError for a
 * missing or unreadable file.
 */
export async function scanInput(input: string, limit?: number): Promise<InputScan> {
  checkInput(input);
  const hash = createHash("sha256");
  let rows = 0;
  let filled = false;
  try {
    for await (const chunk of fs.createReadStream(input, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === 0x0a) {
          if (filled) rows++;
          filled = false;
        } else if (!filled && !BLANK.has(b)) filled = true;
      }
    }
  } catch (err) {
    throw inputError(input, err);
  }
  if (filled) rows++;
  return { sha256: hash.digest("hex"), rows: limit === undefined ? rows : Math.min(rows, limit) };
}

/** A one-line UsageError unless `input` is a readable file. */
export function checkInput(input: string): void {
  try {
    if (!fs.statSync(input).isFile()) throw new UsageError(`--input ${input}: not a file`);
    fs.accessSync(input, fs.constants.R_OK);
  } catch (err) {
    throw inputError(input, err);
  }
}

function inputError(input: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new UsageError(`--input ${input}: no such file`);
  if (code === "EACCES" || code === "EPERM") return new UsageError(`--input ${input}: permission denied`);
  return fileError("read", input, err);
}

export function runRecord(sha256: string, fields: Omit<RunRecord, "input_sha256">): RunRecord {
  return { input_sha256: sha256, ...fields };
}

/**
 * Starts or resumes a run. Returns "resumed" when earlier results of the same
 * run exist, "new" when this run wrote the record; throws with the differing
 * field when the files belong to another run, and says what to do about a
 * damaged record.
 */
export function claimOutput(recordFile: string, outputs: string[], wanted: RunRecord): "new" | "resumed" {
  const hasResults = outputs.some((f) => fs.existsSync(f) && fs.statSync(f).size > 0);
  const write = () => writeFileAtomic(recordFile, JSON.stringify(wanted, null, 2) + "\n");
  if (!fs.existsSync(recordFile)) {
    if (hasResults) {
      throw new UsageError(`${outputs[0]} already holds results of an unknown run (no ${recordFile}); choose another --output or remove it`);
    }
    write();
    return "new";
  }
  const found = readRecord(recordFile);
  if (!found) {
    // An empty or cut-short record (written in place by an older gym collect on a full disk).
    if (!hasResults) {
      write(); // nothing to lose
      return "new";
    }
    throw new UsageError(`${recordFile} is damaged (empty or not a run record), so ${outputs[0]} cannot be resumed; run again with --fresh to start over`);
  }
  for (const key of Object.keys(wanted) as (keyof RunRecord)[]) {
    if (JSON.stringify(found[key]) !== JSON.stringify(wanted[key])) {
      const what = key === "input_sha256" ? "another input" : `${key}=${JSON.stringify(found[key])}`;
      throw new UsageError(
        `${outputs[0]} belongs to another run (${what}; this run has ${key === "input_sha256" ? "a different input" : `${key}=${JSON.stringify(wanted[key])}`}); choose another --output or remove it`,
      );
    }
  }
  return hasResults ? "resumed" : "new";
}

function readRecord(file: string): RunRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw fileError("read", file, err);
  }
  try {
    const found = JSON.parse(text) as RunRecord;
    return typeof found === "object" && found !== null && typeof found.input_sha256 === "string" ? found : undefined;
  } catch {
    return undefined;
  }
}
