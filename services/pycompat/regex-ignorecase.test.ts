// Python's IGNORECASE, pinned to CPython: testdata/regex-ignorecase.json holds
// which code points re.fullmatch matches for each pattern (over every cased
// code point, every one re's case tables name, and whole blocks around them),
// and findall results of longer texts; gen-regex-ignorecase.py wrote it with
// CPython 3.13 (NeMo Gym's Python). casefold-data.ts must come from the same tables.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PYTHON_VERSION, UNICODE_VERSION } from "./casefold-data.js";
import { PythonRegex, pythonReEscape, UnsupportedPythonRegexError } from "./regex.js";

interface Reference {
  python: string;
  unicode: string;
  candidates: [number, number][];
  fullmatch: { pattern: string; flags: string; matches: [number, number][] }[];
  findall: { pattern: string; flags: string; text: string; result: (string | string[])[] }[];
}

const ref = JSON.parse(readFileSync(new URL("./testdata/regex-ignorecase.json", import.meta.url), "utf8")) as Reference;
const candidates = ref.candidates.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));

function ranges(points: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && last[1] === p - 1) last[1] = p;
    else out.push([p, p]);
  }
  return out;
}

const hex = (r: [number, number][]) => r.map(([a, b]) => (a === b ? a.toString(16) : `${a.toString(16)}-${b.toString(16)}`));

describe("Python's IGNORECASE", () => {
  it("uses the tables of the CPython that wrote the reference", () => {
    expect([PYTHON_VERSION, UNICODE_VERSION]).toEqual([ref.python, ref.unicode]);
  });

  for (const c of ref.fullmatch) {
    it(`matches what re.fullmatch(${JSON.stringify(c.pattern)}${c.flags ? ", re.I" : ""}) matches`, () => {
      const regex = new PythonRegex(c.pattern, { ignoreCase: c.flags.includes("i") });
      const got = candidates.filter((cp) => regex.fullmatch(String.fromCodePoint(cp)) !== null);
      expect(hex(ranges(got))).toEqual(hex(c.matches));
    });
  }

  for (const c of ref.findall) {
    it(`findall(${JSON.stringify(c.pattern)}, ${JSON.stringify(c.text)}) as Python`, () => {
      expect(new PythonRegex(c.pattern, { ignoreCase: c.flags.includes("i") }).findall(c.text)).toEqual(c.result);
    });
  }

  it("never uses JavaScript's i flag", () => {
    expect(new PythonRegex("(?i)answer").flags).toBe("u");
  });

  it("refuses a backreference under ignore-case (Python compares lowercases; JS cannot)", () => {
    expect(() => new PythonRegex("(a)\\1", { ignoreCase: true })).toThrow(UnsupportedPythonRegexError);
    expect(() => new PythonRegex("(?P<x>a)(?i:(?P=x))")).toThrow(UnsupportedPythonRegexError);
    expect(new PythonRegex("(?i:(a))\\1").findall("Aa AA")).toEqual(["A"]);
  });

  it("escapes as re.escape does", () => {
    const text = "Answer (final) [1+1=2]? a.b*c ^$|{}\\ #&~-\tx";
    expect(new PythonRegex(pythonReEscape(text), { ignoreCase: true }).fullmatch(text.toUpperCase())).not.toBeNull();
    expect(pythonReEscape("a-b c")).toBe("a\\-b\\ c");
  });
});
