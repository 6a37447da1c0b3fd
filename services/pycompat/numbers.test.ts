import { describe, expect, it } from "vitest";
import { pyBigIntFromString, pyFloatFromString, pyIntFromString, PyValueError } from "./numbers.js";

// Expected values: Python's int(s) / float(s) (ValueError as "error").
describe("pyIntFromString / pyFloatFromString (int(str), float(str))", () => {
  const ints: [string, number | "error"][] = [
    ["1_000", 1000], [" 12 ", 12], ["+5", 5], ["-0", 0], ["007", 7], ["1__0", "error"], ["_1", "error"], ["1_", "error"],
    ["٣٤", 34], ["٣_٤", 34], ["²", "error"], ["1.0", "error"], ["0x10", "error"], ["\u00a012\u2003", 12], ["\x1c5\x1f", "error"],
    ["12\x00", "error"], ["\x855\u3000", 5], [" 1\v", 1], ["1 2", "error"], ["+_1", "error"], ["", "error"], ["𝟙𝟚", 12],
  ];
  for (const [s, want] of ints) {
    it(`int(${JSON.stringify(s)})`, () => {
      if (want === "error") expect(() => pyIntFromString(s)).toThrow(PyValueError);
      else expect(pyIntFromString(s)).toBe(want);
    });
  }
  const floats: [string, number | "error"][] = [
    ["1.", 1], [".5", 0.5], ["1e5", 1e5], ["1_000.000_1", 1000.0001], ["1._5", "error"], ["1_.5", "error"], ["1e1_0", 1e10],
    ["inf", Infinity], ["-Infinity", -Infinity], ["infinity ", Infinity], ["1e400", Infinity], ["  2.5 ", 2.5], [".", "error"],
    ["e5", "error"], ["1e", "error"], ["0x1p3", "error"], ["١.٥", 1.5], ["1.5e+_3", "error"], ["in", "error"], ["infinit", "error"],
    ["\x0b2.5\x0c", 2.5], ["\x1c2.5", "error"], ["2.5\x85", 2.5], ["-.5e-3", -0.0005], ["1e+05", 1e5],
  ];
  for (const [s, want] of floats) {
    it(`float(${JSON.stringify(s)})`, () => {
      if (want === "error") expect(() => pyFloatFromString(s)).toThrow(PyValueError);
      else expect(pyFloatFromString(s)).toBe(want);
    });
  }
  it("float('nan') and int() past 4300 digits", () => {
    expect(pyFloatFromString("+nAn")).toBeNaN();
    expect(() => pyIntFromString("1".repeat(4301))).toThrow("Exceeds the limit");
  });
});

describe("pyBigIntFromString (int(str), exact)", () => {
  it("keeps every digit and refuses what int() refuses", () => {
    expect(pyBigIntFromString(" 123456789012345678901234567890 ")).toBe(123456789012345678901234567890n);
    expect(pyBigIntFromString("-0_07")).toBe(-7n);
    expect(pyBigIntFromString("+٣٤")).toBe(34n);
    expect(() => pyBigIntFromString("1.0")).toThrow(PyValueError);
    expect(() => pyBigIntFromString("1".repeat(4301))).toThrow("Exceeds the limit");
  });
});
