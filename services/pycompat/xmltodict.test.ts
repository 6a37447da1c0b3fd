import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Reference } from "./testdata/canon.js";
import { pyXmltodictParse } from "./xmltodict.js";

// Expected values: xmltodict 1.0.2's xmltodict.parse on each text (testdata/README.md).
const cases: Reference[] = JSON.parse(readFileSync(new URL("./testdata/xmltodict-parse.json", import.meta.url), "utf8"));

/** Documented deviation: expat applies <!ATTLIST> default values from the internal DTD; saxes reads no DTD. */
const KNOWN = new Set(['<!DOCTYPE r [<!ATTLIST r a CDATA "d">]><r/>']);

describe("pyXmltodictParse (xmltodict.parse)", () => {
  for (const ref of cases) {
    it(JSON.stringify(ref.text).slice(0, 80), () => {
      let got: { value?: unknown; error?: string };
      try {
        got = { value: pyXmltodictParse(ref.text) };
      } catch (err) {
        got = { error: (err as Error).name };
      }
      if (KNOWN.has(ref.text)) return expect(got).not.toEqual({ value: ref.value });
      if (ref.error) expect(got.error, JSON.stringify(got)).toBe(ref.error);
      else expect(got).toEqual({ value: ref.value });
    });
  }

  it("gives xmltodict's shape", () => {
    expect(pyXmltodictParse('<r a="1"><i>x</i><i/>t</r>')).toEqual({ r: { "@a": "1", i: ["x", null], "#text": "t" } });
  });
});
