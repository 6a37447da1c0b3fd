import { describe, expect, it } from "vitest";
import { PyCsvError, pyCsvDictReader } from "./csv.js";

// Expected values: Python's list(csv.DictReader(io.StringIO(text))), each row's items (None as null).
const CSV_CASES: [string, { rows?: unknown; error?: string }][] = [
  ["a,b\n1,2\n", { rows: [[["a", "1"], ["b", "2"]]] }],
  ["a,b\r\n1,2\r\n", { rows: [[["a", "1"], ["b", "2"]]] }],
  ["a,b\n1,2", { rows: [[["a", "1"], ["b", "2"]]] }],
  ["a,b\n\n1,2\n\n", { rows: [[["a", "1"], ["b", "2"]]] }],
  ["\na,b\n1,2", { rows: [[[null, ["a", "b"]]], [[null, ["1", "2"]]]] }],
  ["a,b\n1\n", { rows: [[["a", "1"], ["b", null]]] }],
  ["a,b\n1,2,3,4\n", { rows: [[["a", "1"], ["b", "2"], [null, ["3", "4"]]]] }],
  ["a,a,b\n1,2\n", { rows: [[["a", "2"], ["b", null]]] }],
  ["a,b\n\"x, y\",2\n", { rows: [[["a", "x, y"], ["b", "2"]]] }],
  ["a,b\n\"multi\nline\",2\n", { rows: [[["a", "multi\nline"], ["b", "2"]]] }],
  ["a,b\n\"unterminated,2\n", { rows: [[["a", "unterminated,2\n"], ["b", null]]] }],
  ["a,b\nx\"y,2\n", { rows: [[["a", "x\"y"], ["b", "2"]]] }],
  ["a,b\n\"x\"y,2\n", { rows: [[["a", "xy"], ["b", "2"]]] }],
  ["a,b\n\"x\"\"y\",2\n", { rows: [[["a", "x\"y"], ["b", "2"]]] }],
  ["a,b\r1,2\r", { error: "new-line character seen in unquoted field - do you need to open the file with newline=''?" }],
  ["a,b\n1,2\rc\n", { error: "new-line character seen in unquoted field - do you need to open the file with newline=''?" }],
  ["a,b\n1,2\r\r\n", { rows: [[["a", "1"], ["b", "2"]]] }],
  ["a,b\n\"\",\"\"\n", { rows: [[["a", ""], ["b", ""]]] }],
  ["a,b\n,\n", { rows: [[["a", ""], ["b", ""]]] }],
  ["a\n\u0000b\n", { rows: [[["a", "\u0000b"]]] }],
  ["a,b\n\"x\",\n", { rows: [[["a", "x"], ["b", ""]]] }],
  ["  a , b \n 1 , 2 \n", { rows: [[["  a ", " 1 "], [" b ", " 2 "]]] }],
  ["a,b\n\"q\"\n", { rows: [[["a", "q"], ["b", null]]] }],
  ["a,b\n\"", { rows: [[["a", ""], ["b", null]]] }],
  ["a;b\n1;2\n", { rows: [[["a;b", "1;2"]]] }],
  ["a,b\n1,2\n\n\n", { rows: [[["a", "1"], ["b", "2"]]] }],
  ["\ufeffa,b\n1,2\n", { rows: [[["\ufeffa", "1"], ["b", "2"]]] }],
  ["a,b\n1,\"2\"\"\"\n", { rows: [[["a", "1"], ["b", "2\""]]] }],
  ["a,b\n1,2\u000b3\n", { rows: [[["a", "1"], ["b", "2\u000b3"]]] }],
  ["a,b\n1,2\u20283\n", { rows: [[["a", "1"], ["b", "2\u20283"]]] }],
  ["a,b\n1,2\u0085\n", { rows: [[["a", "1"], ["b", "2\u0085"]]] }],];

describe("pyCsvDictReader (csv.DictReader, excel dialect)", () => {
  for (const [text, want] of CSV_CASES) {
    it(JSON.stringify(text), () => {
      if (want.error) {
        expect(() => pyCsvDictReader(text)).toThrow(PyCsvError);
        expect(() => pyCsvDictReader(text)).toThrow(want.error);
      } else {
        expect(pyCsvDictReader(text).map((row) => [...row.entries()])).toEqual(want.rows);
      }
    });
  }

  it("refuses a field longer than csv.field_size_limit()", () => {
    expect(() => pyCsvDictReader(`a\n${"x".repeat(131073)}\n`)).toThrow("field larger than field limit (131072)");
    expect(pyCsvDictReader(`a\n${"x".repeat(131072)}\n`)[0]!.get("a")).toHaveLength(131072);
  });
});
