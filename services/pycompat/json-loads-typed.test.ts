import { describe, expect, it } from "vitest";
import { JSONDecodeError, pyJsonLoads, pyJsonLoadsTyped } from "./json-loads.js";

describe("pyJsonLoadsTyped (json.loads with Python's types)", () => {
  it("tells ints (bigint, exact at any size) from floats (number)", () => {
    expect(pyJsonLoadsTyped("1")).toBe(1n);
    expect(pyJsonLoadsTyped("-0")).toBe(0n);
    expect(pyJsonLoadsTyped("1.0")).toBe(1);
    expect(typeof pyJsonLoadsTyped("1e2")).toBe("number");
    expect(pyJsonLoadsTyped("123456789012345678901234567890")).toBe(123456789012345678901234567890n);
    expect(pyJsonLoadsTyped("1e400")).toBe(Infinity);
    expect(pyJsonLoadsTyped("NaN")).toBeNaN();
    expect(pyJsonLoadsTyped("-Infinity")).toBe(-Infinity);
  });

  it("keeps dicts in Python's key order: integer-like keys are not moved first, a duplicate keeps its first place", () => {
    const d = pyJsonLoadsTyped('{"b": 1, "2": [true, null, "x"], "1": {}, "b": 2.5}') as Map<string, unknown>;
    expect(d).toBeInstanceOf(Map);
    expect([...d.keys()]).toEqual(["b", "2", "1"]);
    expect(d.get("b")).toBe(2.5);
    expect(d.get("2")).toEqual([true, null, "x"]);
    expect(d.get("1")).toEqual(new Map());
    expect(Object.keys(pyJsonLoads('{"b": 1, "2": 0}') as object)).toEqual(["2", "b"]);
  });

  it("refuses what json.loads refuses, with its messages", () => {
    expect(() => pyJsonLoadsTyped("{'a': 1}")).toThrow(JSONDecodeError);
    expect(() => pyJsonLoadsTyped("{'a': 1}")).toThrow("Expecting property name enclosed in double quotes: line 1 column 2 (char 1)");
    expect(() => pyJsonLoadsTyped("1 2")).toThrow("Extra data: line 1 column 3 (char 2)");
  });
});
