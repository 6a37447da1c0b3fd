// Regex search over a run's lines: the lines are read again from disk as a
// stream (nothing is kept), and the answer is the numbers of the lines that
// match. The pattern runs on the raw JSON text of each line, case-insensitive,
// as the bundle's search does in the page (web/transport.js).
import { UsageError } from "../mesh/errors.js";
import type { SourceId, ViewedRun } from "./run-files.js";

export interface SearchResult {
  /** Matching line numbers per file, with the generation they refer to. */
  r: number[];
  f: number[];
  gen: Record<SourceId, number>;
  /** The time ran out before every line was read: the matches are of the lines read. */
  truncated: boolean;
}

/** The pattern as the page sends it; a bad one is a one-line UsageError. */
export function searchPattern(text: string): RegExp {
  try {
    return new RegExp(text, "i");
  } catch (err) {
    throw new UsageError(`bad regex: ${(err as Error).message}`);
  }
}

export async function searchRun(run: ViewedRun, pattern: RegExp, timeLimitMs = 30_000): Promise<SearchResult> {
  const until = Date.now() + timeLimitMs;
  const out: SearchResult = { r: [], f: [], gen: { r: run.sources.r.gen, f: run.sources.f.gen }, truncated: false };
  for (const id of ["r", "f"] as const) {
    const hits = out[id];
    let n = 0;
    await run.sources[id].eachLine((text, i) => {
      if (pattern.test(text)) hits.push(i);
      // The clock is read every few hundred lines, not on each.
      if (++n % 256 === 0 && Date.now() > until) {
        out.truncated = true;
        return false;
      }
    });
    if (out.truncated) break;
  }
  return out;
}
