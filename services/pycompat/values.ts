// Python's comparison rules for JSON values, for verifiers ported from NeMo
// Gym: `==` treats true as 1 and 1 as 1.0 (and JSON parsing loses the int /
// float difference anyway), and `set()` only takes hashable values.

/** Python's `a == b` for values parsed from JSON. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  if (a === null || b === null) return a === b;
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && pyEquals((a as never)[k], (b as never)[k]));
  }
  return false;
}

/** Python's `x in values` for a list. */
export function pyIn(x: unknown, values: readonly unknown[]): boolean {
  return values.some((v) => pyEquals(x, v));
}

export class PyTypeError extends Error {}

/**
 * A key that is equal for values Python hashes and compares as equal
 * (1, 1.0 and true share one); lists and dicts are unhashable, as in Python.
 */
export function pyHashKey(v: unknown): string {
  if (v === null || v === undefined) return "none";
  if (isNumeric(v)) return `n:${Number(v)}`;
  if (typeof v === "string") return `s:${v}`;
  throw new PyTypeError(`unhashable type: '${Array.isArray(v) ? "list" : "dict"}'`);
}

/** `len(set(a) & set(b))` for lists. */
export function pySetOverlap(a: readonly unknown[], b: readonly unknown[]): number {
  const left = new Set(a.map(pyHashKey));
  return new Set(b.map(pyHashKey).filter((k) => left.has(k))).size;
}

function isNumeric(v: unknown): v is number | boolean {
  return typeof v === "number" || typeof v === "boolean";
}
