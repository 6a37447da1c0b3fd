// The canonical form of testdata/README.md, for values the pycompat parsers make.
import { isPyNonStrKey, isPyOpaque, pyKeyRepr } from "../objects.js";

export interface Reference {
  text: string;
  value?: unknown;
  error?: string;
}

/** The reference writes a self-containing value as a whole as "RECURSIVE". */
class RecursiveValue extends Error {}

export function canon(v: unknown, seen = new Set<unknown>()): unknown {
  if (typeof v === "boolean") return { b: v };
  if (typeof v === "number") return { n: Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : v };
  if (typeof v === "string") return { s: v };
  if (v === null) return null;
  if (isPyOpaque(v)) {
    const r = String(v);
    if (r === "set()") return { o: "set:" };
    return { o: r.startsWith("{") ? `set:${r.slice(1, -1).split(", ").sort().join(",")}` : r };
  }
  if (seen.has(v)) throw new RecursiveValue();
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => canon(x, seen));
    return { d: Object.entries(v as object).map(([k, x]) => [isPyNonStrKey(k) ? { k: pyKeyRepr(k, (s) => s) } : k, canon(x, seen)]) };
  } finally {
    seen.delete(v);
  }
}

/** The outcome of `parse(text)` in the same terms as a Reference. */
export function outcome(parse: (text: string) => unknown, text: string): Omit<Reference, "text"> {
  try {
    const value = parse(text);
    try {
      return { value: canon(value) };
    } catch (err) {
      if (err instanceof RecursiveValue) return { value: "RECURSIVE" };
      throw err;
    }
  } catch (err) {
    return { error: (err as Error).name };
  }
}
