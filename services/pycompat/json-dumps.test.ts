import { describe, expect, it } from "vitest";
import { pythonJsonDumps } from "./json-dumps.js";

describe("pythonJsonDumps", () => {
  it("writes what Python's json.dumps writes", () => {
    expect(pythonJsonDumps({ city: "San Francisco", n: [1, 2.5, null, true] })).toBe(
      '{"city": "San Francisco", "n": [1, 2.5, null, true]}',
    );
    expect(pythonJsonDumps({ city: "Zürich ☀" })).toBe('{"city": "Z\\u00fcrich \\u2600"}');
    expect(pythonJsonDumps("a\"b\n")).toBe('"a\\"b\\n"');
    expect(pythonJsonDumps({})).toBe("{}");
  });
});

describe("pyFloat", () => {
  it("writes Python's float text", async () => {
    const { pyFloat, pythonFloatRepr } = await import("./json-dumps.js");
    expect(pythonJsonDumps({ x: pyFloat(-3), y: pyFloat(0.1), z: pyFloat(1e-5), w: pyFloat(1e16), v: 2 })).toBe(
      '{"x": -3.0, "y": 0.1, "z": 1e-05, "w": 1e+16, "v": 2}',
    );
    expect([1e15, 123.456, 0.0001, -0, 1.5e-7, 12345678901234567].map(pythonFloatRepr)).toEqual([
      "1000000000000000.0",
      "123.456",
      "0.0001",
      "-0.0",
      "1.5e-07",
      "1.2345678901234568e+16",
    ]);
  });
});
