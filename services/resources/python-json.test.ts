import { describe, expect, it } from "vitest";
import { pythonJsonDumps } from "./python-json.js";

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
