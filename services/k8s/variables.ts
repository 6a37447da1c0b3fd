// The `${VAR}` and `${VAR:-default}` references of a config. They stay in the
// ConfigMap as written (the loader substitutes them in the pod, as anywhere
// else); each Deployment gets the variables its instance uses as env, secret
// ones from a Secret, the rest from a ConfigMap.

/** The loader's pattern (app/config.ts): a name, and a default after `:-`. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface VariableUse {
  name: string;
  /** Every use has a default: the pod starts without a value. */
  hasDefault: boolean;
  /** Its value must not sit in a ConfigMap (an API key, a token, a header value). */
  secret: boolean;
}

/** Fields whose values are credentials whatever their variable is called (a model's `api_key`, its extra `headers`). */
const SECRET_FIELDS = new Set(["api_key", "headers"]);

/**
 * Names that say they hold a credential: `*_API_KEY`, `*_KEY`, `*_TOKEN`, or
 * SECRET / PASSWORD / CREDENTIALS anywhere. TOKEN counts only as the last word:
 * POLICY_RETURN_TOKEN_IDS is a switch, not a token.
 */
export function isSecretName(name: string): boolean {
  const words = name.toUpperCase().split("_").filter(Boolean);
  const last = words.at(-1) ?? "";
  return ["KEY", "APIKEY", "TOKEN"].includes(last) || words.some((w) => ["SECRET", "PASSWORD", "PASSWD", "CREDENTIALS"].includes(w));
}

/** The variables a parsed YAML subtree uses (strings only: keys are not substituted), merged by name. */
export function variablesIn(value: unknown, into: Map<string, VariableUse> = new Map(), inSecretField = false): Map<string, VariableUse> {
  if (typeof value === "string") {
    for (const m of value.matchAll(REFERENCE)) {
      const name = m[1]!;
      const seen = into.get(name);
      const hasDefault = m[2] !== undefined;
      const secret = inSecretField || isSecretName(name);
      into.set(name, {
        name,
        hasDefault: seen ? seen.hasDefault && hasDefault : hasDefault,
        secret: (seen?.secret ?? false) || secret,
      });
    }
  } else if (Array.isArray(value)) {
    for (const v of value) variablesIn(v, into, inSecretField);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) variablesIn(v, into, inSecretField || SECRET_FIELDS.has(k));
  }
  return into;
}

/** Merges `b` into `a` (a variable without a default anywhere has none; secret anywhere is secret). */
export function mergeVariables(a: Map<string, VariableUse>, b: Iterable<VariableUse>): Map<string, VariableUse> {
  const out = new Map(a);
  for (const v of b) {
    const seen = out.get(v.name);
    out.set(v.name, seen ? { name: v.name, hasDefault: seen.hasDefault && v.hasDefault, secret: seen.secret || v.secret } : v);
  }
  return out;
}
