// The Python values the calendar grader works on, as json.loads makes them
// and as its code combines them. Python keeps what JS numbers lose, and the
// reward depends on it: str(event_id) is "0" for 0 but "0.0" for 0.0, ints
// have no size limit, `int + float` fails past the float range, and == / < on
// an int and a float compare exactly. So ints are bigints here, floats are
// numbers, and objects are Maps (their key order is Python's: first insertion).
import { pythonFloatRepr } from "../../pycompat/json-dumps.js";
import { pyReprString } from "../../pycompat/str.js";

export type PyDict = Map<string, PyValue>;
export type PyValue = null | boolean | bigint | number | string | PyValue[] | PyDict;

/** A Python exception raised by the grader's code (the verifier catches them all). */
export class PyError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
    this.name = type;
  }
}

// json.loads fails with RecursionError past this many nested arrays/objects:
// CPython 3.13's C recursion limit less what NeMo Gym 0.7.0's server (uvicorn)
// has used when its verify parses the answer (measured; 9998 at a script's top level).
export const MAX_DEPTH = 9993;
/** CPython refuses int() of more digits than this (sys.get_int_max_str_digits()). */
const MAX_INT_DIGITS = 4300;

const WS = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

type Frame = { list: PyValue[] } | { dict: PyDict; key: string };

/**
 * json.loads(text) with Python's types: int literals as bigints, floats
 * (a fraction or exponent, NaN, Infinity) as numbers, objects as Maps (the
 * last duplicate key wins, in the first one's place). Iterative, so nesting
 * fails where CPython's does (RecursionError), not at JS's stack size.
 */
export function pyJsonLoads(text: string): PyValue {
  const s = text;
  const fail = (msg: string): never => {
    throw new PyError("JSONDecodeError", msg);
  };
  const ws = (i: number) => {
    while (i < s.length && WS.has(s[i]!)) i++;
    return i;
  };
  const string = (i: number): [string, number] => {
    // i is just past the opening quote.
    let out = "";
    for (;;) {
      let j = i;
      while (j < s.length) {
        const code = s.charCodeAt(j);
        if (code === 0x22 || code === 0x5c || code < 0x20) break;
        j++;
      }
      out += s.slice(i, j);
      if (j >= s.length) fail("Unterminated string");
      const c = s[j]!;
      if (c === '"') return [out, j + 1];
      if (c !== "\\") fail("Invalid control character");
      const e = s[j + 1];
      if (e === undefined) fail("Unterminated string");
      if (e !== "u") {
        const ch = ESCAPES[e!];
        if (ch === undefined) fail("Invalid \\escape");
        out += ch;
        i = j + 2;
        continue;
      }
      const hex4 = (at: number) => {
        const d = s.slice(at, at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(d)) fail("Invalid \\uXXXX escape");
        return parseInt(d, 16);
      };
      let unit = hex4(j + 2);
      i = j + 6;
      if (unit >= 0xd800 && unit <= 0xdbff && s[i] === "\\" && s[i + 1] === "u") {
        const low = hex4(i + 2);
        if (low >= 0xdc00 && low <= 0xdfff) {
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
          out += String.fromCodePoint(unit);
          continue;
        }
      }
      out += String.fromCharCode(unit);
    }
  };
  const key = (i: number): [string, number] => {
    if (s[i] !== '"') fail("Expecting property name enclosed in double quotes");
    const [k, after] = string(i + 1);
    i = ws(after);
    if (s[i] !== ":") fail("Expecting ':' delimiter");
    return [k, ws(i + 1)];
  };

  const stack: Frame[] = [];
  let i = ws(0);
  let value: PyValue;
  for (;;) {
    // One value starts at i.
    const c = s[i];
    if (c === "[" || c === "{") {
      if (stack.length + 1 > MAX_DEPTH) throw new PyError("RecursionError", "maximum recursion depth exceeded while decoding a JSON document");
      i = ws(i + 1);
      if (c === "[") {
        if (s[i] === "]") {
          value = [];
          i++;
        } else {
          stack.push({ list: [] });
          continue;
        }
      } else if (s[i] === "}") {
        value = new Map();
        i++;
      } else {
        const [k, next] = key(i);
        stack.push({ dict: new Map(), key: k });
        i = next;
        continue;
      }
    } else if (c === '"') {
      [value, i] = string(i + 1);
    } else if (c === "n" && s.startsWith("null", i)) {
      [value, i] = [null, i + 4];
    } else if (c === "t" && s.startsWith("true", i)) {
      [value, i] = [true, i + 4];
    } else if (c === "f" && s.startsWith("false", i)) {
      [value, i] = [false, i + 5];
    } else if (c === "N" && s.startsWith("NaN", i)) {
      [value, i] = [NaN, i + 3];
    } else if (c === "I" && s.startsWith("Infinity", i)) {
      [value, i] = [Infinity, i + 8];
    } else if (c === "-" && s.startsWith("-Infinity", i)) {
      [value, i] = [-Infinity, i + 9];
    } else {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(s);
      if (!m) return fail("Expecting value");
      if (m[1] !== undefined || m[2] !== undefined) value = Number(m[0]);
      else {
        if (m[0].replace("-", "").length > MAX_INT_DIGITS) throw new PyError("ValueError", "Exceeds the limit (4300 digits) for integer string conversion");
        value = BigInt(m[0]);
      }
      i += m[0].length;
    }
    // Hand the value to the containers it closes.
    for (;;) {
      const top = stack.at(-1);
      if (top === undefined) {
        if (ws(i) !== s.length) fail("Extra data");
        return value;
      }
      i = ws(i);
      if ("list" in top) {
        top.list.push(value);
        if (s[i] === ",") {
          i = ws(i + 1);
          break;
        }
        if (s[i] !== "]") fail("Expecting ',' delimiter");
        value = top.list;
      } else {
        top.dict.set(top.key, value);
        if (s[i] === ",") {
          const [k, next] = key(ws(i + 1));
          top.key = k;
          i = next;
          break;
        }
        if (s[i] !== "}") fail("Expecting ',' delimiter");
        value = top.dict;
      }
      stack.pop();
      i++;
    }
  }
}

/** A row value (JSON through protobuf Struct: numbers are doubles) as a Python value; whole numbers count as ints. */
export function fromJson(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === "object") return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJson(x)]));
  throw new PyError("TypeError", `not a JSON value: ${String(v)}`);
}

function typeName(v: PyValue): string {
  if (v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float";
  if (typeof v === "string") return "str";
  return Array.isArray(v) ? "list" : "dict";
}

/** `container[key]` with a str key. */
export function getItem(container: PyValue, key: string): PyValue {
  if (container instanceof Map) {
    if (!container.has(key)) throw new PyError("KeyError", pyReprString(key));
    return container.get(key)!;
  }
  throw new PyError("TypeError", `${typeName(container)} indices must be integers or slices, not str`);
}

/** The value as a str, or AttributeError (what calling a str method on it raises). */
export function asStr(v: PyValue, method: string): string {
  if (typeof v === "string") return v;
  throw new PyError("AttributeError", `'${typeName(v)}' object has no attribute '${method}'`);
}

export function pyRepr(v: PyValue): string {
  if (typeof v === "string") return pyReprString(v);
  return pyStr(v, pyRepr);
}

/** str(v). */
export function pyStr(v: PyValue, item: (x: PyValue) => string = pyRepr): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return pythonFloatRepr(v);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(item).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `${pyReprString(k)}: ${item(x)}`).join(", ")}}`;
}

type Num = bigint | number;

/** Python's number view of a bool/int/float, or undefined for anything else. */
function num(v: PyValue): Num | undefined {
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "bigint" || typeof v === "number") return v;
  return undefined;
}

/** float(int): correctly rounded, OverflowError past the float range. */
function toFloat(a: bigint): number {
  const f = Number(a);
  if (!Number.isFinite(f)) throw new PyError("OverflowError", "int too large to convert to float");
  return f;
}

/** `a + b` for an int a (a time in minutes) and a JSON value b. */
export function addToInt(a: bigint, b: PyValue): Num {
  const n = num(b);
  if (n === undefined) throw new PyError("TypeError", `unsupported operand type(s) for +: 'int' and '${typeName(b)}'`);
  if (typeof n === "bigint") return a + n;
  return toFloat(a) + n;
}

/** Sign of a - b, exactly, as Python compares ints and floats; NaN when unordered. */
export function compare(a: Num, b: Num): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  if (typeof a === "number") return -compare(b, a);
  // An int against a float.
  const f = b as number;
  if (Number.isNaN(f)) return NaN;
  if (!Number.isFinite(f)) return f > 0 ? -1 : 1;
  const whole = Math.floor(f);
  const w = BigInt(whole);
  if (a < w) return -1;
  if (a > w) return 1;
  return whole === f ? 0 : -1;
}

export const lt = (a: Num, b: Num) => compare(a, b) < 0;
export const le = (a: Num, b: Num) => compare(a, b) <= 0;
export const gt = (a: Num, b: Num) => compare(a, b) > 0;
export const ge = (a: Num, b: Num) => compare(a, b) >= 0;

/**
 * Python's `a == b`. Python compares the items of containers by identity
 * first, and json.loads's NaN is one object, so NaN equals NaN inside
 * containers (not at the top level).
 */
export function pyEq(a: PyValue, b: PyValue, inside = false): boolean {
  // The same list or dict: Python compares its items by identity, so it is equal (without recursing).
  if (typeof a === "object" && a !== null && a === b) return true;
  const x = num(a);
  const y = num(b);
  if (x !== undefined || y !== undefined) {
    if (x === undefined || y === undefined) return false;
    if (inside && typeof x === "number" && typeof y === "number" && Number.isNaN(x) && Number.isNaN(y)) return true;
    return compare(x, y) === 0;
  }
  if (a === null || b === null || typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => pyEq(v, b[i]!, true));
  }
  const da = a as PyDict;
  const db = b as PyDict;
  if (da.size !== db.size) return false;
  for (const [k, v] of da) {
    if (!db.has(k) || !pyEq(v, db.get(k)!, true)) return false;
  }
  return true;
}
