// Python values that JSON has no form for, as parsers of other formats make
// them (PyYAML: dates, bytes, sets, int keys; tomllib: datetimes), kept in a
// form that JSON-schema validation treats as Python's jsonschema does:
//
// * An opaque value (datetime.date, bytes, set, tuple...) is of no JSON type:
//   it fails every "type", equals nothing in "enum"/"const", and every
//   string/number/array/object keyword ignores it. It is a function object
//   because that is the one JS value ajv never takes for a string, number,
//   array or object; its toString() is its Python repr, which pyRepr()
//   prints. Equal values made by one factory are the same object, so
//   uniqueItems and enum compare them as Python's == does.
// * A dict key that is not a str (1, True, None, a date) becomes a marked
//   string that no schema property name can equal, so "properties" and
//   "required" never match it and "additionalProperties" sees it, as in Python.

/** A Python value of no JSON type; String(v) is its repr. */
export type PyOpaque = (() => never) & { readonly pyOpaqueKind: string };

export function isPyOpaque(v: unknown): v is PyOpaque {
  return typeof v === "function" && typeof (v as Partial<PyOpaque>).pyOpaqueKind === "string";
}

/** Makes opaque values, one object per distinct value (Python ==) within the factory. */
export class PyOpaqueFactory {
  private readonly made = new Map<string, PyOpaque>();

  /** `kind` is the Python type name, `repr` its repr(); `identity` (default repr) decides equality. */
  make(kind: string, repr: string, identity = repr): PyOpaque {
    const key = `${kind}\u0000${identity}`;
    let v = this.made.get(key);
    if (!v) {
      const fn = (() => {
        throw new TypeError(`${kind} is not callable`);
      }) as unknown as PyOpaque;
      Object.defineProperties(fn, { pyOpaqueKind: { value: kind }, toString: { value: () => repr } });
      v = fn;
      this.made.set(key, v);
    }
    return v;
  }
}

/** Starts a dict key that stands for a non-str Python key (no answer's string begins so). */
export const PY_KEY_MARK = "\u0000py-key\u0000";

/** The key text of a non-str key: its Python type name and repr behind PY_KEY_MARK. */
export function pyNonStrKey(typeName: string, repr: string): string {
  return `${PY_KEY_MARK}${typeName}\u0000${repr}`;
}

/** The Python type name of a marked key. */
export function pyNonStrKeyType(key: string): string {
  return key.slice(PY_KEY_MARK.length, key.indexOf("\u0000", PY_KEY_MARK.length));
}

export function isPyNonStrKey(key: string): boolean {
  return key.startsWith(PY_KEY_MARK);
}

/** The repr of a key as Python prints it: 'name' for a str, the repr for a marked key. */
export function pyKeyRepr(key: string, reprStr: (s: string) => string): string {
  return isPyNonStrKey(key) ? key.slice(key.indexOf("\u0000", PY_KEY_MARK.length) + 1) : reprStr(key);
}

/** Sets an own property (even "__proto__"), replacing the value but keeping the first position, as a dict does. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
