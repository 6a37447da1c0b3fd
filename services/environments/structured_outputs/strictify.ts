// NeMo Gym 0.7.0's strictify_schema: every dict with a "properties" key gets
// `required` = all its property names and `additionalProperties: false`, and
// the walk goes on into every dict value, whatever its key ($defs,
// definitions, if/then/else, not, items, properties maps, even const and
// default values), but never into lists: anyOf/oneOf/allOf branches,
// prefixItems and array-form items stay as written. A property *named*
// "properties" makes its properties map look like a schema, as in Python.

/** A schema NeMo Gym's verifier itself cannot process (it fails with a server error there). */
export class UnusableSchemaError extends Error {}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Mutates `schema` as strictify_schema does. */
export function strictify(schema: unknown, path = "schema"): void {
  if (!isDict(schema)) return;
  if (Object.hasOwn(schema, "properties")) {
    schema.required = pythonList(schema.properties, `${path}.properties`);
    schema.additionalProperties = false;
  }
  for (const [k, v] of Object.entries(schema)) strictify(v, `${path}.${k}`);
}

/** Python's list(x): keys of a dict, items of a list, characters of a str; anything else is a TypeError. */
function pythonList(v: unknown, path: string): unknown[] {
  if (Array.isArray(v)) return [...v];
  if (typeof v === "string") return [...v];
  if (isDict(v)) return Object.keys(v);
  throw new UnusableSchemaError(`${path} is ${JSON.stringify(v)}, which has no property names`);
}
