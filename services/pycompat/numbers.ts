// Python's int(str) and float(str), which verifiers use to coerce text to
// numbers (NeMo Gym's XML and CSV type coercion). They accept more than
// Number() does (underscores between digits, any Unicode decimal digit,
// Unicode whitespace around the number, "infinity") and less (no "0x10", no
// inner spaces, no empty string), so a port must not use Number() or
// parseInt() directly.
//
// Integers come back as JS numbers: beyond 2^53 they lose precision (Python
// keeps them exact).

/** Python's ValueError from int() / float(). */
export class PyValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ValueError";
  }
}

// Surrounding whitespace int()/float() skip: ASCII " \t\n\v\f\r" (not
// U+001C-001F, which str.isspace() has) plus the non-ASCII str.isspace() set.
const EDGE_SPACE = /^[ \t\n\v\f\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[ \t\n\v\f\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu;
const DIGITS = "[0-9](?:_?[0-9])*";
const INT = new RegExp(`^[+-]?${DIGITS}$`);
const FLOAT = new RegExp(`^[+-]?(?:(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf|infinity|nan)$`, "i");
/** CPython refuses int() of more digits than this (sys.get_int_max_str_digits()). */
const MAX_STR_DIGITS = 4300;

/** Unicode decimal digits (category Nd) as ASCII, as CPython does before parsing. */
function asciiDigits(s: string): string {
  return s.replace(/\p{Nd}/gu, (d) => {
    const cp = d.codePointAt(0)!;
    if (cp < 0x80) return d;
    // Nd digits come in contiguous runs of 0..9 (some runs adjacent, e.g. the
    // mathematical digits): the value is the distance from the block's start, mod 10.
    let start = cp;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    return String((cp - start) % 10);
  });
}

function prepare(s: string): string {
  return asciiDigits(s.replace(EDGE_SPACE, ""));
}

/** int(s) for a str: throws PyValueError where Python raises ValueError. */
export function pyIntFromString(s: string): number {
  const t = prepare(s);
  if (!INT.test(t)) throw new PyValueError(`invalid literal for int() with base 10: ${JSON.stringify(s)}`);
  const digits = t.replace(/[+_-]/g, "");
  if (digits.length > MAX_STR_DIGITS) throw new PyValueError(`Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion`);
  const n = Number(t.replace(/_/g, ""));
  return Object.is(n, -0) ? 0 : n;
}

/** int(s) for a str, exact (Python's ints have no size limit): throws PyValueError where Python raises ValueError. */
export function pyBigIntFromString(s: string): bigint {
  pyIntFromString(s);
  return BigInt(prepare(s).replace(/_/g, ""));
}

/** float(s) for a str: throws PyValueError where Python raises ValueError. */
export function pyFloatFromString(s: string): number {
  const t = prepare(s);
  if (!FLOAT.test(t)) throw new PyValueError(`could not convert string to float: ${JSON.stringify(s)}`);
  const lower = t.toLowerCase().replace(/_/g, "");
  const sign = lower.startsWith("-") ? -1 : 1;
  const body = lower.replace(/^[+-]/, "");
  if (body === "nan") return NaN;
  if (body === "inf" || body === "infinity") return sign * Infinity;
  return Number(lower);
}
