// JSON text parsed as Python's json.loads parses it, which is what NeMo Gym
// validates. It differs from JSON.parse in what it accepts (NaN, Infinity and
// -Infinity literals) and in its error messages, which end up in the
// verifier's error_message: "Expecting value: line 1 column 1 (char 0)".
// Positions count code points, as Python's do.
//
// Numbers become JS numbers: integers beyond 2^53 lose precision (Python keeps
// them exact), which matters only to minimum/maximum/multipleOf at that size.

/** Python's json.JSONDecodeError. */
export class JSONDecodeError extends Error {
  constructor(
    readonly msg: string,
    doc: string,
    index: number,
  ) {
    const before = doc.slice(0, index);
    const pos = codePoints(before);
    const lineno = before.split("\n").length;
    const lastNewline = before.lastIndexOf("\n");
    const colno = lastNewline < 0 ? pos + 1 : pos - codePoints(doc.slice(0, lastNewline));
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
    this.name = "JSONDecodeError";
  }
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const WS = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** json.loads(text). Objects are plain objects with own keys (even "__proto__"); the last duplicate key wins. */
export function pyJsonLoads(text: string): unknown {
  return parse(new Parser(text));
}

/**
 * A value of `json.loads` that keeps what JavaScript values lose: an int is a
 * bigint (exact at any size), a float a number (NaN and the infinities
 * included), a dict a Map in Python's key order (a duplicate key keeps its
 * first place and takes the last value).
 */
export type PyJson = null | boolean | string | bigint | number | PyJson[] | Map<string, PyJson>;

/** json.loads(text) as Python types it (PyJson); for verifiers where int vs float or key order decides. */
export function pyJsonLoadsTyped(text: string): PyJson {
  return parse(new Parser(text, true)) as PyJson;
}

function parse(p: Parser): unknown {
  const text = p.text;
  if (text.startsWith("\ufeff")) throw new JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0);
  let i = p.ws(0);
  const [value, end] = p.value(i);
  i = p.ws(end);
  if (i !== text.length) throw new JSONDecodeError("Extra data", text, i);
  return value;
}

class Parser {
  constructor(
    private readonly s: string,
    private readonly typed = false,
  ) {}

  get text(): string {
    return this.s;
  }

  ws(i: number): number {
    while (i < this.s.length && WS.has(this.s[i]!)) i++;
    return i;
  }

  private fail(msg: string, i: number): never {
    throw new JSONDecodeError(msg, this.s, i);
  }

  value(i: number): [unknown, number] {
    const s = this.s;
    const c = s[i];
    if (c === '"') return this.string(i + 1);
    if (c === "{") return this.object(i + 1);
    if (c === "[") return this.array(i + 1);
    if (c === "n" && s.startsWith("null", i)) return [null, i + 4];
    if (c === "t" && s.startsWith("true", i)) return [true, i + 4];
    if (c === "f" && s.startsWith("false", i)) return [false, i + 5];
    if (c === "N" && s.startsWith("NaN", i)) return [NaN, i + 3];
    if (c === "I" && s.startsWith("Infinity", i)) return [Infinity, i + 8];
    if (c === "-" && s.startsWith("-Infinity", i)) return [-Infinity, i + 9];
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(s);
    // Typed: no fraction and no exponent is a Python int.
    if (m) return [this.typed && m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]), i + m[0].length];
    return this.fail("Expecting value", i);
  }

  private string(i: number): [string, number] {
    const s = this.s;
    const begin = i - 1;
    let out = "";
    for (;;) {
      let j = i;
      while (j < s.length) {
        const code = s.charCodeAt(j);
        if (code === 0x22 || code === 0x5c || code < 0x20) break;
        j++;
      }
      out += s.slice(i, j);
      if (j >= s.length) this.fail("Unterminated string starting at", begin);
      const c = s[j]!;
      if (c === '"') return [out, j + 1];
      if (c !== "\\") this.fail("Invalid control character at", j);
      const e = s[j + 1];
      if (e === undefined) this.fail("Unterminated string starting at", begin);
      if (e !== "u") {
        const ch = ESCAPES[e];
        if (ch === undefined) this.fail("Invalid \\escape", j);
        out += ch;
        i = j + 2;
        continue;
      }
      let unit = this.hex4(j + 2, j + 1);
      i = j + 6;
      // A high surrogate followed by an escaped low surrogate is one code point.
      if (unit >= 0xd800 && unit <= 0xdbff && s[i] === "\\" && s[i + 1] === "u") {
        const low = this.hex4(i + 2, i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
          out += String.fromCodePoint(unit);
          continue;
        }
      }
      out += String.fromCharCode(unit);
    }
  }

  private hex4(i: number, escapeAt: number): number {
    const digits = this.s.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail("Invalid \\uXXXX escape", escapeAt);
    return parseInt(digits, 16);
  }

  private object(i: number): [Record<string, unknown> | Map<string, unknown>, number] {
    const s = this.s;
    const obj: Record<string, unknown> = {};
    const map = this.typed ? new Map<string, unknown>() : undefined;
    i = this.ws(i);
    if (s[i] === "}") return [map ?? obj, i + 1];
    for (;;) {
      if (s[i] !== '"') this.fail("Expecting property name enclosed in double quotes", i);
      const [key, afterKey] = this.string(i + 1);
      i = this.ws(afterKey);
      if (s[i] !== ":") this.fail("Expecting ':' delimiter", i);
      i = this.ws(i + 1);
      const [value, afterValue] = this.value(i);
      if (map) map.set(key, value);
      else Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      i = this.ws(afterValue);
      if (s[i] === "}") return [map ?? obj, i + 1];
      if (s[i] !== ",") this.fail("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }

  private array(i: number): [unknown[], number] {
    const s = this.s;
    const arr: unknown[] = [];
    i = this.ws(i);
    if (s[i] === "]") return [arr, i + 1];
    for (;;) {
      const [value, after] = this.value(i);
      arr.push(value);
      i = this.ws(after);
      if (s[i] === "]") return [arr, i + 1];
      if (s[i] !== ",") this.fail("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }
}
