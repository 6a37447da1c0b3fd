import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { outcome, type Reference } from "./testdata/canon.js";
import { pySafeLoad } from "./yaml.js";

// Expected values: PyYAML 6.0.4's yaml.safe_load on each text (testdata/README.md).
const cases: Reference[] = JSON.parse(readFileSync(new URL("./testdata/yaml-safe-load.json", import.meta.url), "utf8"));

/** Documented deviations (README of structured_outputs): PyYAML ignores indentation inside quoted scalars and flow collections. */
const KNOWN = new Set(["a: [b\n, c]", 'a: "a\\\nb"', "k: 'a\nb'"]);

describe("pySafeLoad (PyYAML safe_load)", () => {
  for (const ref of cases) {
    it(JSON.stringify(ref.text).slice(0, 80), () => {
      const got = outcome(pySafeLoad, ref.text);
      if (KNOWN.has(ref.text)) {
        expect(ref.error).toBeUndefined();
        expect(got.error).toBeDefined();
        return;
      }
      if (ref.error) expect(got.error, JSON.stringify(got)).toBeDefined();
      else expect(got).toEqual({ value: ref.value });
    });
  }

  it("names the Python exception", () => {
    expect(() => pySafeLoad("a: 2024-02-30")).toThrow(expect.objectContaining({ name: "ValueError" }));
    expect(() => pySafeLoad("a: 1\n---\nb: 2")).toThrow(expect.objectContaining({ name: "ComposerError" }));
    expect(() => pySafeLoad("a: !foo x")).toThrow(expect.objectContaining({ name: "ConstructorError" }));
    expect(() => pySafeLoad("a: \x01")).toThrow(expect.objectContaining({ name: "ReaderError" }));
  });
});
