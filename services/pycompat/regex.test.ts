import { describe, expect, it } from "vitest";
import { PythonRegex, PythonRegexError, UnsupportedPythonRegexError } from "./regex.js";

// Expected values are what CPython 3.11's re.findall returns for the same pattern and text.
const findall: [pattern: string, text: string, python: (string | string[])[]][] = [
  ["\\d+", "ab \u0661\u0662\u0663 45", ["\u0661\u0662\u0663", "45"]],
  ["\\w+", "na\u00efve_caf\u00e9 d\u00e9j\u00e0-vu", ["na\u00efve_caf\u00e9", "d\u00e9j\u00e0", "vu"]],
  ["\\s+", "a\x1cb\x85c\ufeffd", ["\x1c", "\x85"]],
  ["\\b\u00e9", "caf\u00e9 \u00e9", ["\u00e9"]],
  ["^\\d{5}$", "12345\n", ["12345"]],
  ["(?m)^b$", "a\nb\r\nb", ["b"]],
  ["a.c", "a\rc a\nc", ["a\rc"]],
  ["(?s)a.c", "a\nc", ["a\nc"]],
  ["(?P<q>['\"]).*?(?P=q)", "say 'hi' \"yo\"", ["'", '"']],
  ["x{,2}", "xxx", ["xx", "x", ""]],
  ["{}", "{}", ["{}"]],
  ["[^\\W\\d]+", "ab12_\u00e93", ["ab", "_\u00e9"]],
  ["(?i)answer: (\\w)", "ANSWER: b, Answer: \u0108", ["b", "\u0108"]],
  ["(a)|(b)", "ab", [["a", ""], ["", "b"]]],
  ["\\Z", "ab\n", [""]],
  ["(?x) a \\ b  # comment", "a b", ["a b"]],
  ["[]a]+", "]a]", ["]a]"]],
  ["\\101\\x42\\u0043", "ABC", ["ABC"]],
  ["(?<=\\$)\\d+", "$12 and 34", ["12"]],
];

describe("Python regexes on JavaScript", () => {
  for (const [pattern, text, python] of findall) {
    it(`findall(${JSON.stringify(pattern)}, ${JSON.stringify(text)}) as Python`, () => {
      expect(new PythonRegex(pattern).findall(text)).toEqual(python);
    });
  }

  it("search, match and fullmatch anchor as Python's do", () => {
    const r = new PythonRegex("b+");
    expect(r.search("abb")?.[0]).toBe("bb");
    expect(r.match("abb")).toBeNull();
    expect(r.fullmatch("bbb")?.[0]).toBe("bbb");
    expect(r.fullmatch("bbba")).toBeNull();
    expect(new PythonRegex("a|ab").fullmatch("ab")?.[0]).toBe("ab");
  });

  it("never matches inside a surrogate pair (Python matches per code point)", () => {
    expect(new PythonRegex("\\B").findall("A\u00e9\u{1F600}")).toEqual(["", ""]);
  });

  // Each of these makes CPython raise re.error.
  for (const bad of ["([", "a**", "*a", "[z-a]", "\\q", "(?<=a+)b", "\\1(a)", "(?P<1>a)", "x(?i)y"]) {
    it(`rejects ${JSON.stringify(bad)} as Python does`, () => {
      expect(() => new PythonRegex(bad)).toThrow(PythonRegexError);
    });
  }

  for (const [pattern, feature] of [["(?>a)", "atomic"], ["a++", "possessive"], ["(a)(?(1)b|c)", "conditional"], ["\\N{DIGIT ONE}", "\\N"], ["(a)(?i:\\1)", "ignore-case"], ["(?a:x)", "(?a:...)"]]) {
    it(`refuses valid Python it cannot express: ${pattern}`, () => {
      expect(() => new PythonRegex(pattern!)).toThrow(UnsupportedPythonRegexError);
      expect(() => new PythonRegex(pattern!)).toThrow(feature!);
    });
  }
});
