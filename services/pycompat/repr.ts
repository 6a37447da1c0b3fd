// repr() and pprint.pformat() of parsed JSON values, as Python prints them in
// jsonschema's error messages ({'type': 'integer'}, True, None, 1.5).
// JS numbers do not remember int vs float, so 3.0 prints as 3.
import { pyReprString } from "./str.js";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function reprNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  // Python pads exponents to two digits: 1e-07, 1e+16.
  return String(n).replace(/e([+-])(\d)$/, "e$10$2");
}

export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return reprNumber(v);
  if (typeof v === "string") return pyReprString(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `${pyReprString(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return String(v);
}

/** pprint.pformat(v, width=72, sort_dicts=False), starting at column `indent`. */
export function pyPformat(v: unknown, indent = 0, width = 72): string {
  const flat = pyRepr(v);
  if (flat.length <= width - indent) return flat;
  if (Array.isArray(v) && v.length > 0) {
    const pad = " ".repeat(indent + 1);
    return `[${v.map((x, i) => (i ? pad : "") + pyPformat(x, indent + 1, width)).join(",\n")}]`;
  }
  if (isObject(v) && Object.keys(v).length > 0) {
    const pad = " ".repeat(indent + 1);
    const lines = Object.entries(v).map(([k, x], i) => {
      const key = `${pyReprString(k)}: `;
      return (i ? pad : "") + key + pyPformat(x, indent + 1 + key.length, width);
    });
    return `{${lines.join(",\n")}}`;
  }
  return flat;
}
