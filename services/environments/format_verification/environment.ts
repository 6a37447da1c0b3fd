// format_verification, ported from NeMo Gym 0.7.0: does the answer follow a
// formatting instruction? Two verifiers, picked by the row's verifier.type:
// "regex" (and "inline_prose") counts the answer's lines that match any of the
// row's Python regexes and wants at least verify_min_matches of them (the
// freeform_formatting config's data: bullets, headings, key = value lines...);
// "string_match" wants every expected citation marker in the text and no
// other marker that the row's patterns find (the citation_format config's
// data). Only the format is scored, never the content.
import { Code, ConnectError } from "@connectrpc/connect";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";
import { defineEnvironment, invalidInput, taskFields } from "../../resources/environment.js";
import { outputText } from "../../openai/response-text.js";
import { PythonRegex, PythonRegexError, UnsupportedPythonRegexError } from "../../pycompat/regex.js";
import { pyRepr } from "../../pycompat/repr.js";

/**
 * NeMo Gym's two configs of this server (configs/freeform_formatting.yaml and
 * configs/citation_format.yaml) differ only in these descriptive fields; the
 * release's config class reads none of them, and neither does this port: the
 * row's verifier.type decides how a response is scored.
 */
export const formatVerificationSettings = z.strictObject({
  domain: z.string().optional(),
  verified: z.boolean().optional(),
  description: z.string().optional(),
  value: z.string().optional(),
});
export type FormatVerificationSettings = z.infer<typeof formatVerificationSettings>;

/** The row's own field: a dict, every key of which is read with a default. */
const TaskData = z.object({ verifier: z.record(z.string(), z.unknown()) });

/** A Python exception the release's verify raises on this row (HTTP 500 there). */
function rowError(field: string, message: string): ConnectError {
  return invalidInput(`task.verifier.${field}`, message);
}

function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  return Array.isArray(v) ? "list" : "dict";
}

/** Python's `for x in v` over a JSON value: a list's items, a str's characters, a dict's keys. */
function pyIter(field: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (v !== null && typeof v === "object") return Object.keys(v);
  throw rowError(field, `'${pyTypeName(v)}' object is not iterable`);
}

/** Python's truth value of a JSON value. */
function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v) || typeof v === "string") return v.length > 0;
  if (v !== null && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

/** re.compile(p) of a row's pattern; re.error and a non-str pattern fail as the release does. */
function compile(field: string, p: unknown): PythonRegex {
  if (typeof p !== "string") throw rowError(field, "first argument must be string or compiled pattern");
  try {
    return new PythonRegex(p);
  } catch (err) {
    if (err instanceof PythonRegexError) throw rowError(field, `re.error: ${err.message}`);
    if (err instanceof UnsupportedPythonRegexError) throw new ConnectError(`format_verification: task.verifier.${field}: ${err.message}`, Code.Unimplemented);
    throw err;
  }
}

/** `verifier.get(key, fallback)`. */
function get(verifier: Record<string, unknown>, key: string, fallback: unknown): unknown {
  return Object.hasOwn(verifier, key) ? verifier[key] : fallback;
}

export interface Verdict {
  reward: number;
  details: JsonObject;
}

/** The regex verifier: lines (split on "\n") that any pattern finds; passed with at least verify_min_matches. */
export function verifyRegex(text: string, verifier: Record<string, unknown>): Verdict {
  const compiled = pyIter("verify_regex", get(verifier, "verify_regex", [])).map((p) => compile("verify_regex", p));
  const minMatches = get(verifier, "verify_min_matches", 1);
  let matchingLines = 0;
  for (const line of text.split("\n")) {
    if (compiled.some((rx) => rx.search(line) !== null)) matchingLines += 1;
  }
  if (typeof minMatches !== "number" && typeof minMatches !== "boolean") {
    throw rowError("verify_min_matches", `'>=' not supported between instances of 'int' and '${pyTypeName(minMatches)}'`);
  }
  const passed = matchingLines >= Number(minMatches);
  return { reward: passed ? 1 : 0, details: { matching_lines: matchingLines, min_matches: minMatches, passed } };
}

/**
 * The string-match verifier: every expected marker is a substring of the
 * text, and no match of the patterns is anything but an expected marker
 * (each such match is listed as spurious, repeats included).
 */
export function verifyStringMatch(text: string, verifier: Record<string, unknown>): Verdict {
  const expected = get(verifier, "expected_markers", []);
  const patterns = get(verifier, "patterns", []);
  const markers = pyIter("expected_markers", expected);
  const missing = markers.filter((m) => {
    if (typeof m !== "string") throw rowError("expected_markers", `'in <string>' requires string as left operand, not ${pyTypeName(m)}`);
    return !text.includes(m);
  });
  const spurious: string[] = [];
  if (pyTruthy(patterns)) {
    const expectedSet = new Set(markers as string[]);
    for (const p of pyIter("patterns", patterns)) {
      for (const found of compile("patterns", p).finditer(text)) {
        if (!expectedSet.has(found[0])) spurious.push(found[0]);
      }
    }
  }
  const passed = missing.length === 0 && spurious.length === 0;
  return { reward: passed ? 1 : 0, details: { expected: expected as JsonValue, missing: missing as string[], spurious, passed } };
}

const formatVerification = defineEnvironment<unknown, FormatVerificationSettings>({
  name: "format_verification",
  description: "Formatting instructions: lines matching regexes (freeform formatting) or citation markers (citation format)",
  tools: [],
  taskSchema: TaskData,
  settings: formatVerificationSettings,
  verify: ({ task, response }) => {
    const { verifier } = taskFields(task, TaskData);
    const text = outputText(response);
    const type = get(verifier, "type", "");
    let verdict: Verdict;
    if (type === "regex" || type === "inline_prose") verdict = verifyRegex(text, verifier);
    else if (type === "string_match") verdict = verifyStringMatch(text, verifier);
    else throw rowError("type", `Verifier type must be 'regex' or 'string_match', got ${pyRepr(type)}`);
    return { reward: verdict.reward, extra: { verifier: verifier as JsonObject, match_details: verdict.details } };
  },
});

export default formatVerification;
