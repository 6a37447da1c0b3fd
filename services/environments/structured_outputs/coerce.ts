// NeMo Gym 0.7.0's type coercion of XML and CSV answers before validation:
// both parsers give strings only, so values are converted where the (strict)
// schema asks for integer/number/boolean, with Python's int()/float() rules;
// a value that does not convert stays a string and fails validation. The
// Python code's own failures (e.g. `.get` on a schema that is a list) are
// exceptions NeMo Gym reports as validation_error; they are PyException here.
import { pyFloatFromString, pyIntFromString, PyValueError } from "../../pycompat/numbers.js";
import type { PyCsvRow } from "../../pycompat/csv.js";
import { pyNonStrKey, setOwn } from "../../pycompat/objects.js";
import { PyException } from "./py-error.js";

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Python's type name of a JSON value, for AttributeError texts. */
function typeName(v: unknown): string {
  if (v === null) return "NoneType";
  if (Array.isArray(v)) return "list";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  return "dict";
}

/** d.get(key, default) on a value that must be a dict. */
function get(d: unknown, key: string, fallback: unknown): unknown {
  if (!isDict(d)) throw new PyException("AttributeError", `'${typeName(d)}' object has no attribute 'get'`);
  return Object.hasOwn(d, key) ? d[key] : fallback;
}

/** int() / float() / the boolean words, or the string itself when it does not convert. */
function scalar(value: string, type: unknown): unknown {
  try {
    if (type === "integer") return pyIntFromString(value);
    if (type === "number") return pyFloatFromString(value);
  } catch (err) {
    if (err instanceof PyValueError) return value;
    throw err;
  }
  if (type === "boolean") {
    const lower = value.toLowerCase();
    if (lower === "true" || lower === "1") return true;
    if (lower === "false" || lower === "0") return false;
  }
  return value;
}

/** coerce_xml_types: walks the xmltodict value alongside the schema's properties and items. */
export function coerceXml(data: unknown, schema: unknown): unknown {
  if (!isDict(schema) || !Object.hasOwn(schema, "type")) return data;
  const type = schema.type;
  if (type === "object" && isDict(data)) {
    const properties = get(schema, "properties", {});
    const out: Dict = {};
    for (const [key, value] of Object.entries(data)) setOwn(out, key, hasProperty(properties, key) ? coerceXml(value, (properties as Dict)[key]) : value);
    return out;
  }
  if (type === "array") {
    const items = get(schema, "items", {});
    // xmltodict wraps repeated children as {"tag": [...]}: a one-key dict here is that wrapper.
    let list = isDict(data) && Object.keys(data).length === 1 ? Object.values(data)[0] : data;
    if (!Array.isArray(list)) list = list === null || list === undefined ? [] : [list];
    return (list as unknown[]).map((item) => coerceXml(item, items));
  }
  // An empty element is None: "" only where a string is expected.
  if (data === null && type === "string") return "";
  if (typeof data === "string") return scalar(data, type);
  return data;
}

/** `key in properties`, then properties[key]: a list or str has `in` but no str index. */
function hasProperty(properties: unknown, key: string): boolean {
  if (isDict(properties)) return Object.hasOwn(properties, key);
  const found = Array.isArray(properties) ? properties.includes(key) : typeof properties === "string" ? properties.includes(key) : raise(`argument of type '${typeName(properties)}' is not iterable`);
  if (found) throw new PyException("TypeError", Array.isArray(properties) ? "list indices must be integers or slices, not str" : "string indices must be integers, not 'str'");
  return false;
}

function raise(message: string): never {
  throw new PyException("TypeError", message);
}

/** coerce_csv_types: each DictReader row's values converted by the items schema's property types. */
export function coerceCsv(rows: PyCsvRow[], schema: unknown): Dict[] {
  const itemsSchema = get(schema, "items", schema);
  const properties = get(itemsSchema, "properties", {});
  return rows.map((row) => {
    const out: Dict = {};
    for (const [key, value] of row) {
      // The restkey (surplus values) is None: never a property name.
      const propSchema = key === null ? {} : get(properties, key, {});
      const type = get(propSchema, "type", "string");
      setOwn(out, key === null ? pyNonStrKey("NoneType", "None") : key, csvScalar(value, type));
    }
    return out;
  });
}

/** _coerce_csv_scalar: a union type tries each non-null member, "" is None where null is allowed. */
function csvScalar(value: string | string[] | null, type: unknown): unknown {
  if (Array.isArray(type)) {
    if ((value === null || value === "") && type.includes("null")) return null;
    for (const t of type) {
      if (t === "null") continue;
      const result = csvScalar(value, t);
      if (typeof result !== "string" || t === "string") return result;
    }
    return value;
  }
  if (value === null || value === "" || typeof value !== "string") return value;
  return scalar(value, type);
}
