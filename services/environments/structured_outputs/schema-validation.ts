// Schema checking as NeMo Gym's structured_outputs does it: the (strict,
// see strictify.ts) schema is checked against the JSON Schema 2020-12
// meta-schema (openapi-schema-validator's check_schema), then the value is
// validated with Python's jsonschema rules:
//
// * `format` is an annotation only, never asserted;
// * `pattern` / `patternProperties` are Python regexes matched with re.search
//   (translated, see ../mcqa/python-regex.ts), and a pattern Python cannot
//   compile makes the schema invalid;
// * "integer" accepts 3.0 and NaN/Infinity are numbers (Python floats);
// * values JSON has no type for (dates, bytes... from YAML/TOML) are of no
//   type, and non-str dict keys are no property name (pycompat/objects.ts);
//   re.search on such a key is Python's TypeError;
// * a self-referencing value (a YAML alias inside its anchor) that is walked
//   forever is Python's RecursionError;
// * OpenAPI 3.0's `nullable`, which ajv knows, is an unknown keyword (ignored).
//
// The error text imitates jsonschema's best_match error and its str().
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { PythonRegex, UnsupportedPythonRegexError } from "../../pycompat/regex.js";
import { isPyNonStrKey, pyKeyRepr, pyNonStrKeyType, setOwn } from "../../pycompat/objects.js";
import { pyPformat, pyRepr } from "../../pycompat/repr.js";
import { pyReprString } from "../../pycompat/str.js";
import { PyException } from "./py-error.js";

function isValidPythonRegex(pattern: string): boolean {
  try {
    new PythonRegex(pattern);
    return true;
  } catch (err) {
    if (err instanceof UnsupportedPythonRegexError) return true; // valid Python; it fails later, loudly
    return false;
  }
}

// check_schema: the meta-schema, with Python's regex check for `pattern`s.
const metaAjv = new Ajv2020({
  strict: false,
  allErrors: false,
  validateFormats: true,
  formats: { regex: isValidPythonRegex, uri: true, "uri-reference": true },
  logger: false,
});

// Instance validation: formats off, Python regexes, NaN/Infinity as numbers.
const ajv = new Ajv2020({
  strict: false,
  strictNumbers: false,
  allErrors: true,
  validateFormats: false,
  validateSchema: false,
  addUsedSchema: false,
  logger: false,
  code: {
    regExp: Object.assign(
      (pattern: string) => {
        const regex = new PythonRegex(pattern);
        // ajv caches compiled patterns by toString().
        const test = (s: string) => {
          if (isPyNonStrKey(s)) throw new PyException("TypeError", `expected string or bytes-like object, got '${pyNonStrKeyType(s)}'`);
          return regex.search(s) !== null;
        };
        return { test, toString: () => `python:${pattern}` };
      },
      { code: "pythonRegex" },
    ) as never,
  },
});

/** null when `instance` is valid; otherwise the error text NeMo Gym would report ("ValidationError: ..."). */
export function validateAgainstSchema(instance: unknown, schema: unknown): string | null {
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    return `SchemaError: ${pyRepr(schema)} is not of type 'object', 'boolean'`;
  }
  const checked = withoutDialect(schema);
  if (!metaAjv.validateSchema(checked)) {
    const e = metaAjv.errors?.[0];
    return `SchemaError: ${e ? `${formatIndex("schema", walk(schema, decodePointer(e.instancePath)).path)} ${e.message ?? "is invalid"}` : "schema is invalid"}`;
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(checked);
  } catch (err) {
    if (err instanceof UnsupportedPythonRegexError) throw err;
    return `SchemaError: ${(err as Error).message}`;
  }
  try {
    let valid: boolean;
    try {
      valid = validate(instance) as boolean;
    } catch (err) {
      if (err instanceof RangeError) return "RecursionError: maximum recursion depth exceeded";
      throw err;
    }
    if (valid) return null;
    const best = bestMatch(issues(validate.errors ?? [], instance, schema));
    if (!best) return "ValidationError: invalid";
    try {
      return `ValidationError: ${describeIssue(best)}`;
    } catch (err) {
      // A self-referencing value cannot be printed; Python prints [...] there.
      if (err instanceof RangeError) return `ValidationError: ${best.keyword} failed on a recursive value`;
      throw err;
    }
  } finally {
    // Compiled schemas are cached by object; each verify brings a new one.
    ajv.removeSchema(checked);
  }
}

/** ajv would resolve a top-level $schema; Python's validator uses its own dialect whatever it says. */
function withoutDialect(schema: unknown): object | boolean {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema as boolean;
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return withoutNullable(rest) as object;
}

/** Keywords whose value is a map of names to schemas, and keywords whose value is data. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
const DATA_KEYWORDS = new Set(["const", "enum", "default", "examples"]);

/**
 * The schema without OpenAPI 3.0's `nullable` keyword, which ajv applies (it
 * adds "null" to `type`, and refuses it without `type`) but Python's 2020-12
 * validator ignores as an unknown keyword. Property *names* "nullable" stay.
 */
function withoutNullable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutNullable);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "nullable") continue;
    if (DATA_KEYWORDS.has(k)) setOwn(out, k, v);
    else if (SCHEMA_MAPS.has(k) && typeof v === "object" && v !== null && !Array.isArray(v)) {
      const map: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(v)) setOwn(map, name, withoutNullable(sub));
      setOwn(out, k, map);
    } else setOwn(out, k, withoutNullable(v));
  }
  return out;
}

// --- jsonschema's best_match ------------------------------------------------

type PathItem = string | number;

interface Issue {
  keyword: string;
  /** Instance path relative to the enclosing anyOf/oneOf (absolute at top level). */
  path: PathItem[];
  /** Schema path to the keyword, relative like `path`. */
  schemaPath: PathItem[];
  /** Where the keyword sits, for ordering siblings as jsonschema iterates them. */
  order: number[];
  instance: unknown;
  schema: Record<string, unknown>;
  params: Record<string, unknown>;
  context: Issue[];
}

function decodePointer(pointer: string): string[] {
  return pointer
    .replace(/^#/, "")
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Walks JSON along pointer segments; array steps become numbers. */
function walk(root: unknown, segments: string[]): { value: unknown; path: PathItem[]; order: number[] } {
  let value = root;
  const path: PathItem[] = [];
  const order: number[] = [];
  for (const seg of segments) {
    if (Array.isArray(value)) {
      const i = Number(seg);
      path.push(i);
      order.push(i);
      value = value[i];
    } else if (typeof value === "object" && value !== null) {
      path.push(seg);
      order.push(Object.keys(value).indexOf(seg));
      value = (value as Record<string, unknown>)[seg];
    } else {
      path.push(seg);
      order.push(0);
      value = undefined;
    }
  }
  return { value, path, order };
}

function issues(errors: ErrorObject[], instance: unknown, schema: unknown): Issue[] {
  // One jsonschema error per additionalProperties keyword, listing every extra property.
  const merged: ErrorObject[] = [];
  // jsonschema reports a failing then/else branch's own errors, never one for "if".
  for (const e of errors.filter((x) => x.keyword !== "if")) {
    const twin = merged.find((m) => e.keyword === "additionalProperties" && m.keyword === e.keyword && m.schemaPath === e.schemaPath && m.instancePath === e.instancePath);
    if (twin) (twin.params.extras as string[]).push(e.params.additionalProperty as string);
    else merged.push(e.keyword === "additionalProperties" ? { ...e, params: { extras: [e.params.additionalProperty] } } : e);
  }
  const all = merged.map((e) => {
    const schemaSegments = decodePointer(e.schemaPath);
    const at = walk(schema, schemaSegments);
    const parent = walk(schema, schemaSegments.slice(0, -1)).value;
    const inst = walk(instance, decodePointer(e.instancePath));
    return {
      error: e,
      issue: {
        keyword: e.keyword,
        path: inst.path,
        schemaPath: at.path,
        order: at.order,
        instance: inst.value,
        schema: (typeof parent === "object" && parent !== null ? parent : {}) as Record<string, unknown>,
        params: e.params as Record<string, unknown>,
        context: [],
      } as Issue,
    };
  });
  // Errors inside an anyOf/oneOf branch become that error's context, with relative paths.
  const top: Issue[] = [];
  for (const { error, issue } of all) {
    const owner = all
      .filter((o) => (o.error.keyword === "anyOf" || o.error.keyword === "oneOf") && o.error !== error && error.schemaPath.startsWith(`${o.error.schemaPath}/`))
      .sort((a, b) => b.error.schemaPath.length - a.error.schemaPath.length)[0];
    if (!owner) {
      top.push(issue);
      continue;
    }
    const o = owner.issue;
    owner.issue.context.push({
      ...issue,
      path: issue.path.slice(o.path.length),
      schemaPath: issue.schemaPath.slice(o.schemaPath.length),
    });
  }
  return top;
}

function matchesType(issue: Issue): boolean {
  const expected = issue.schema.type;
  const types = typeof expected === "string" ? [expected] : Array.isArray(expected) ? expected : null;
  if (!types) return false;
  const v = issue.instance;
  return types.some((t) => {
    if (t === "null") return v === null;
    if (t === "boolean") return typeof v === "boolean";
    if (t === "string") return typeof v === "string";
    if (t === "number") return typeof v === "number";
    if (t === "integer") return typeof v === "number" && Number.isInteger(v);
    if (t === "array") return Array.isArray(v);
    if (t === "object") return typeof v === "object" && v !== null && !Array.isArray(v);
    return false;
  });
}

/** jsonschema's relevance key; compares like Python tuples (bigger is more relevant). */
function compareRelevance(a: Issue, b: Issue): number {
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  for (let i = 0; i < a.path.length; i++) {
    const x = a.path[i]!;
    const y = b.path[i]!;
    if (x !== y) return x > y ? 1 : -1;
  }
  const weak = (i: Issue) => (i.keyword === "anyOf" || i.keyword === "oneOf" ? 0 : 1);
  if (weak(a) !== weak(b)) return weak(a) - weak(b);
  return (matchesType(a) ? 0 : 1) - (matchesType(b) ? 0 : 1);
}

/** jsonschema yields errors in schema order: depth-first, keys in the order written. */
function compareOrder(a: Issue, b: Issue): number {
  for (let i = 0; i < Math.min(a.order.length, b.order.length); i++) {
    if (a.order[i] !== b.order[i]) return a.order[i]! - b.order[i]!;
  }
  return a.order.length - b.order.length;
}

function bestMatch(found: Issue[]): Issue | undefined {
  // max() keeps the first of equally relevant errors, in iteration order.
  const ordered = [...found].sort(compareOrder);
  let best: Issue | undefined;
  for (const issue of ordered) if (!best || compareRelevance(issue, best) > 0) best = issue;
  while (best && best.context.length > 0) {
    const context = [...best.context].sort(compareOrder);
    const smallest = [...context].sort((a, b) => compareRelevance(a, b));
    if (smallest.length >= 2 && compareRelevance(smallest[0]!, smallest[1]!) === 0) return best;
    best = smallest[0];
  }
  return best;
}

// --- jsonschema's messages ----------------------------------------------------

function message(issue: Issue): string {
  const v = issue.instance;
  const kw = issue.schema[issue.keyword];
  const r = pyRepr(v);
  switch (issue.keyword) {
    case "type": {
      const types = Array.isArray(kw) ? kw : [kw];
      return `${r} is not of type ${types.map(pyRepr).join(", ")}`;
    }
    case "required":
      return `${pyRepr(issue.params.missingProperty)} is a required property`;
    case "additionalProperties": {
      const extras = [...(issue.params.extras as string[])].sort();
      const patterns = issue.schema.patternProperties;
      if (typeof patterns === "object" && patterns !== null) {
        return `${extras.map(keyRepr).join(", ")} ${extras.length === 1 ? "does" : "do"} not match any of the regexes: ${Object.keys(patterns).sort().map(pyRepr).join(", ")}`;
      }
      return `Additional properties are not allowed (${extras.map(keyRepr).join(", ")} ${extras.length === 1 ? "was" : "were"} unexpected)`;
    }
    case "enum":
      return `${r} is not one of ${pyRepr(kw)}`;
    case "const":
      return `${pyRepr(kw)} was expected`;
    case "minimum":
      return `${r} is less than the minimum of ${pyRepr(kw)}`;
    case "maximum":
      return `${r} is greater than the maximum of ${pyRepr(kw)}`;
    case "exclusiveMinimum":
      return `${r} is less than or equal to the minimum of ${pyRepr(kw)}`;
    case "exclusiveMaximum":
      return `${r} is greater than or equal to the maximum of ${pyRepr(kw)}`;
    case "multipleOf":
      return `${r} is not a multiple of ${pyRepr(kw)}`;
    case "minLength":
    case "minItems":
      return kw === 1 ? `${r} should be non-empty` : `${r} is too short`;
    case "maxLength":
    case "maxItems":
      return kw === 0 ? `${r} is expected to be empty` : `${r} is too long`;
    case "minProperties":
      return kw === 1 ? `${r} should be non-empty` : `${r} does not have enough properties`;
    case "maxProperties":
      return kw === 0 ? `${r} is expected to be empty` : `${r} has too many properties`;
    case "uniqueItems":
      return `${r} has non-unique elements`;
    case "pattern":
      return `${r} does not match ${pyRepr(kw)}`;
    case "anyOf":
      return `${r} is not valid under any of the given schemas`;
    case "oneOf":
      if (Array.isArray(issue.params.passingSchemas) && Array.isArray(kw)) {
        // jsonschema lists the other matching branches first, then the first one that matched.
        const [first, ...others] = issue.params.passingSchemas as number[];
        return `${r} is valid under each of ${[...others, first!].map((i) => pyRepr(kw[i])).join(", ")}`;
      }
      return `${r} is not valid under any of the given schemas`;
    case "not":
      return `${r} should not be valid under ${pyRepr(kw)}`;
    case "false schema":
      return `False schema does not allow ${r}`;
    default:
      return `${r} is not valid under the given schema (${issue.keyword})`;
  }
}

const keyRepr = (key: string) => pyKeyRepr(key, pyReprString);

function formatIndex(word: string, path: PathItem[]): string {
  return word + path.map((p) => `[${pyRepr(p)}]`).join("");
}

/** str(ValidationError): the message, then where in the schema and the instance. */
function describeIssue(issue: Issue): string {
  const indent = (text: string) => text.split("\n").join("\n    ");
  return (
    `${message(issue)}\n\n` +
    `Failed validating ${pyRepr(issue.keyword)} in ${formatIndex("schema", issue.schemaPath.slice(0, -1))}:\n` +
    `    ${indent(pyPformat(issue.schema))}\n\n` +
    `On ${formatIndex("instance", issue.path)}:\n` +
    `    ${indent(pyPformat(issue.instance))}`
  );
}
