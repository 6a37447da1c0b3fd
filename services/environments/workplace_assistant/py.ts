// The bits of Python (and pandas 3 / pyarrow) behaviour the workplace tools
// depend on: NeMo Gym passes the model's JSON arguments to the tools untyped,
// so truthiness, str(), .lower() and the errors Python raises on wrong types
// all reach the model as tool outputs.
import { pythonFloatRepr } from "../../pycompat/json-dumps.js";
import { pyRepr } from "../../pycompat/repr.js";

/** A Python exception; its message is what `str(e)` gives. */
export class PyError extends Error {}

/** Python's truth value of a JSON value. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "symbol") return "float"; // pandas NaN
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (Array.isArray(v)) return "list";
  return "dict";
}

/** str(v), as an f-string writes it. */
export function pyStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && !Number.isInteger(v)) return pythonFloatRepr(v);
  return pyRepr(v);
}

/** v.lower(): AttributeError on anything but a str. */
export function lower(v: unknown): string {
  if (typeof v !== "string") throw new PyError(`'${typeName(v)}' object has no attribute 'lower'`);
  return v.toLowerCase();
}

/** `needle in haystack` for a str needle: substring of a str, item of a list, key of a dict; TypeError otherwise. */
export function strIn(needle: string, haystack: unknown): boolean {
  if (typeof haystack === "string") return haystack.includes(needle);
  if (Array.isArray(haystack)) return haystack.includes(needle);
  if (haystack !== null && typeof haystack === "object") return Object.hasOwn(haystack, needle);
  const t = typeof haystack === "symbol" ? "float" : typeName(haystack);
  throw new PyError(`argument of type '${t}' is not iterable`);
}

/** int(v) for a JSON value, with Python's errors. */
export function pyInt(v: unknown): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new PyError(Number.isNaN(v) ? "cannot convert float NaN to integer" : "cannot convert float infinity to integer");
    return Math.trunc(v);
  }
  if (typeof v === "string") {
    const t = v.trim();
    if (/^[+-]?\d+(_\d+)*$/.test(t)) return Number(t.replace(/_/g, ""));
    throw new PyValueError(`invalid literal for int() with base 10: ${pyRepr(v)}`);
  }
  throw new PyError(`int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`);
}

/** Python's ValueError (some tools catch only that). */
export class PyValueError extends PyError {}

/** Python's `a < b` for the values a tool compares (ints and strs); TypeError otherwise. */
export function pyLess(a: unknown, b: unknown): boolean {
  if (typeof a === "number" || typeof a === "boolean") {
    if (typeof b === "number" || typeof b === "boolean") return Number(a) < Number(b);
  } else if (typeof a === "string" && typeof b === "string") {
    return a < b;
  }
  throw new PyError(`'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/**
 * The pagination of the search tools, in the release's steps:
 * total_pages = (total + page_size - 1) // page_size;
 * page = max(1, min(page, total_pages)) if total_pages > 0 else 1;
 * start = (page - 1) * page_size; end = min(start + page_size, total).
 * `slice` raises (as the slicing would) for float bounds.
 */
export function paginate(total: number, page: unknown, pageSize: unknown): { page: unknown; totalPages: number; slice<T>(items: T[]): T[] } {
  if (typeof pageSize !== "number" && typeof pageSize !== "boolean") {
    throw new PyError(`unsupported operand type(s) for +: 'int' and '${typeName(pageSize)}'`);
  }
  const ps = Number(pageSize);
  if (ps === 0) throw new PyError(Number.isInteger(pageSize) || typeof pageSize === "boolean" ? "integer division or modulo by zero" : "float floor division by zero");
  const totalPages = Math.floor((total + ps - 1) / ps);
  let p: unknown = 1;
  if (totalPages > 0) {
    const m = pyLess(totalPages, page) ? totalPages : page; // min(page, total_pages)
    p = pyLess(1, m) ? m : 1; // max(1, m)
  }
  const start = (Number(p) - 1) * ps;
  const end = Math.min(start + ps, total);
  return {
    page: p,
    totalPages,
    slice: (items) => {
      if (!Number.isInteger(start) || !Number.isInteger(end)) throw new PyError("slice indices must be integers or None or have an __index__ method");
      return pySlice(items, start, end);
    },
  };
}

/** Python's `seq[start:end]` for non-negative-or-negative int bounds. */
export function pySlice<T>(items: readonly T[], start: number, end: number): T[] {
  const n = items.length;
  const norm = (i: number) => (i < 0 ? Math.max(0, n + i) : Math.min(i, n));
  return items.slice(norm(start), Math.max(norm(start), norm(end)));
}
