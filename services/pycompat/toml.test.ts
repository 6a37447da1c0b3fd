import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { outcome, type Reference } from "./testdata/canon.js";
import { pyTomlLoads } from "./toml.js";

// Expected values: Python's tomllib.loads on each text (testdata/README.md).
const cases: Reference[] = JSON.parse(readFileSync(new URL("./testdata/tomllib-loads.json", import.meta.url), "utf8"));

/** Documented deviation: smol-toml keeps milliseconds, tomllib microseconds (only the repr differs). */
const subMillisecond = (text: string) => /\.\d{4,}/.test(text);

describe("pyTomlLoads (tomllib.loads)", () => {
  for (const ref of cases) {
    it(JSON.stringify(ref.text).slice(0, 80), () => {
      const got = outcome(pyTomlLoads, ref.text);
      if (ref.error) expect(got.error, JSON.stringify(got)).toBe("TOMLDecodeError");
      else if (subMillisecond(ref.text)) expect(JSON.stringify(got.value).replace(/, 0, \d+/g, "")).toBe(JSON.stringify(ref.value).replace(/, 0, \d+/g, ""));
      else expect(got).toEqual({ value: ref.value });
    });
  }
});
