// JSON text as Python's `json.dumps` writes it with default options
// (", " and ": " separators, non-ASCII escaped), so tool outputs fed to the
// model are byte-identical to NeMo Gym's Python servers.
// JS numbers do not remember int vs float: 3.0 is written `3` unless the
// value is wrapped with `pyFloat`, which writes Python's float text (`3.0`).

/** A number that Python holds as a float: written `3.0`, `-0.5`, `1e-05`, `1e+16`. */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** Python's `repr(float)`: the shortest round-trip digits, fixed between 1e-4 and 1e16, else exponent form. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp >= -4 && exp < 16) {
    // Fixed notation; the point sits after exp + 1 digits.
    const point = exp + 1;
    let text: string;
    if (point <= 0) text = `0.${"0".repeat(-point)}${digits}`;
    else if (point >= digits.length) text = `${digits}${"0".repeat(point - digits.length)}.0`;
    else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
    return sign + text;
  }
  const rest = digits.slice(1);
  const e = Math.abs(exp).toString().padStart(2, "0");
  return `${sign}${digits[0]}${rest ? `.${rest}` : ""}e${exp < 0 ? "-" : "+"}${e}`;
}

export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof PyFloat) {
    const x = value.value;
    if (Number.isNaN(x)) return "NaN";
    if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
    return pythonFloatRepr(x);
  }
  if (typeof value === "string") return asciiString(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
    return JSON.stringify(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${asciiString(k)}: ${pythonJsonDumps(v)}`).join(", ")}}`;
  }
  throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
}

function asciiString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
