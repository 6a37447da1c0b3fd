// The workplace tables as pandas 3 holds them after `pd.read_csv(path,
// dtype=str)`: columns of pandas' `str` dtype (pyarrow-backed; an empty or
// "NA"-like cell is NaN), an integer row index, and the dtype changes the
// tools' writes cause (a row with a non-str value turns its column into
// `object`). The verifier compares dtypes and the index too, as
// DataFrame.equals does.
//
// A Frame is never changed in place: a write makes a new Frame of that one
// table (copy-on-write per table), so a session's tables start as the shared
// originals and cost nothing until written.
import * as fs from "node:fs";
import { pyCsvReader } from "../../pycompat/csv.js";
import { PyFloat } from "../../pycompat/json-dumps.js";
import { PythonRegexError, tryPythonRegex } from "../../pycompat/regex.js";
import { PyError, pyStr, typeName } from "./py.js";

/** pandas' NaN (a missing cell); None is `null`. */
export const NA: unique symbol = Symbol("NaN");
export type Cell = string | number | boolean | null | typeof NA | PyFloat | unknown[] | Record<string, unknown>;

/** `str`: pandas' string dtype; `object`: Python objects; `bool`, `float64`: numpy's. */
export type Dtype = "str" | "object" | "bool" | "float64";

export interface Column {
  readonly dtype: Dtype;
  readonly values: readonly Cell[];
}

export interface Frame {
  readonly columns: readonly string[];
  readonly data: Readonly<Record<string, Column>>;
  /** The row labels (an integer index). */
  readonly index: readonly number[];
}

// read_csv's default na_values.
const NA_STRINGS = new Set([
  "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]);

/** pd.read_csv(text, dtype=str), or with `names` for a file without a header row. */
export function readCsv(text: string, names?: string[]): Frame {
  const rows = pyCsvReader(text).filter((r) => r.length > 0);
  const columns = names ?? rows.shift() ?? [];
  const data: Record<string, Column> = {};
  columns.forEach((c, j) => {
    data[c] = { dtype: "str", values: rows.map((r) => (NA_STRINGS.has(r[j] ?? "") ? NA : r[j]!)) };
  });
  return { columns, data, index: rows.map((_, i) => i) };
}

const DATA = new URL("./data/csv_data/", import.meta.url);

export function loadCsv(relative: string, names?: string[]): Frame {
  return readCsv(fs.readFileSync(new URL(relative, DATA), "utf8"), names);
}

export function nrows(f: Frame): number {
  return f.index.length;
}

export function col(f: Frame, name: string): readonly Cell[] {
  return f.data[name]!.values;
}

export function column(f: Frame, name: string): Column {
  return f.data[name]!;
}

/** df[mask]: the rows where keep is true, labels kept. */
export function filterRows(f: Frame, keep: readonly boolean[]): Frame {
  const data: Record<string, Column> = {};
  for (const c of f.columns) data[c] = { dtype: f.data[c]!.dtype, values: f.data[c]!.values.filter((_, i) => keep[i]) };
  return { columns: f.columns, data, index: f.index.filter((_, i) => keep[i]) };
}

/** df.to_dict(orient="records"); values as they go out as JSON (NaN and None as null, float64 as floats). */
export function records(f: Frame): Record<string, Cell>[] {
  return f.index.map((_, i) => {
    const r: Record<string, Cell> = {};
    for (const c of f.columns) r[c] = f.data[c]!.values[i]!;
    return r;
  });
}

/**
 * pd.concat([df, pd.DataFrame([row])], ignore_index=...): the new row's label
 * is 0 (its own frame's index), or every row is numbered anew. A column stays
 * `str` only when the new value is a str.
 */
export function appendRow(f: Frame, row: Record<string, unknown>, ignoreIndex: boolean): Frame {
  const data: Record<string, Column> = {};
  for (const c of f.columns) {
    const old = f.data[c]!;
    const v = (row[c] ?? null) as Cell;
    const dtype: Dtype = old.dtype === "str" && typeof v === "string" ? "str" : "object";
    data[c] = { dtype, values: [...old.values, v] };
  }
  const index = ignoreIndex ? [...f.index.map((_, i) => i), f.index.length] : [...f.index, 0];
  return { columns: f.columns, data, index };
}

/**
 * df.loc[df[key] == id, field] = value. pandas 3 refuses a value a `str`
 * column cannot hold (TypeError); a one-item list sets its item.
 */
export function setWhere(f: Frame, rows: readonly boolean[], field: string, value: unknown): Frame {
  const old = f.data[field]!;
  let v = value;
  const count = rows.filter(Boolean).length;
  if (Array.isArray(v)) {
    if (v.length !== count) throw new PyError(`Must have equal len keys and value when setting with an iterable`);
    v = v[0];
  }
  if (old.dtype === "str" && typeof v !== "string") {
    if (v !== null && typeof v === "object") {
      throw new PyError("Invalid value for dtype 'str'. Value should be a string or missing value (or array of those).");
    }
    if (v !== null) throw new PyError(`Invalid value '${pyStr(v)}' for dtype 'str'. Value should be a string or missing value, got '${typeName(v)}' instead.`);
    v = NA;
  }
  const values = old.values.map((x, i) => (rows[i] ? (v as Cell) : x));
  return { ...f, data: { ...f.data, [field]: { dtype: old.dtype, values } } };
}

/** Replaces a column (e.g. after astype). */
export function withColumn(f: Frame, name: string, column: Column): Frame {
  return { ...f, data: { ...f.data, [name]: column } };
}

/** `series == value` for a `str` column: a non-str value matches nothing; a list must have the column's length. */
export function eqMask(values: readonly Cell[], value: unknown): boolean[] {
  if (Array.isArray(value)) {
    if (value.length !== values.length) throw new PyError(`('Lengths must match to compare', (${values.length},), (${value.length},))`);
    return values.map((x, i) => x === value[i]);
  }
  if (value !== null && typeof value === "object") throw new PyError("eq not implemented for <class 'dict'>");
  if (typeof value !== "string") return values.map(() => false);
  return values.map((x) => x === value);
}

/** `value in series.values` for a `str` column. */
export function containsValue(values: readonly Cell[], value: unknown): boolean {
  if (Array.isArray(value)) {
    if (value.length !== values.length) throw new PyError("Lengths must match to compare");
    if (values.length > 1) throw new PyError("The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()");
  }
  return eqMask(values, value).some(Boolean);
}

/** series.max() of a `str` column (pyarrow: by UTF-8 bytes), NaN skipped. */
export function strMax(values: readonly Cell[]): string | typeof NA {
  let best: string | undefined;
  for (const v of values) {
    if (typeof v !== "string") continue;
    if (best === undefined || Buffer.compare(Buffer.from(v), Buffer.from(best)) > 0) best = v;
  }
  return best ?? NA;
}

/**
 * `series >= value` / `<=` against a str value: string order for a `str`
 * column (NaN is false); an `object` column compares each Python value
 * (None and NaN are false, other types a TypeError).
 */
export function compareMask(column: Column, op: ">=" | "<=", value: unknown): boolean[] {
  const values = column.values;
  const opName = op === ">=" ? "ge" : "le";
  if (Array.isArray(value) && value.length !== values.length) {
    throw new PyError(`('Lengths must match to compare', (${values.length},), (${value.length},))`);
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) throw new PyError(`${opName} not implemented for <class 'dict'>`);
  if (typeof value !== "string") {
    // Nothing to compare: no error. None compares false everywhere.
    if (values.length === 0 || value === null) return values.map(() => false);
    if (column.dtype === "str") throw new PyError(`Invalid comparison between dtype=str and ${typeName(value)}`);
    const first = values.find((x) => x !== null && x !== NA);
    throw new PyError(`'${op}' not supported between instances of '${typeName(first ?? "")}' and '${typeName(value)}'`);
  }
  const b = Buffer.from(value);
  return values.map((x) => {
    if (x === null || x === NA) return false;
    if (typeof x !== "string") throw new PyError(`'${op}' not supported between instances of '${typeName(x)}' and 'str'`);
    const c = Buffer.compare(Buffer.from(x), b);
    return op === ">=" ? c >= 0 : c <= 0;
  });
}

/**
 * series.str.contains(pattern, case=False[, na=False]): a regular
 * expression, case-insensitive. A `str` column uses pyarrow (RE2; NaN is
 * false); an `object` column Python's re, where a cell that is not a str
 * gives NaN, which a mask refuses unless na=False.
 */
export function strContains(column: Column, pattern: unknown, naFalse = false): boolean[] {
  if (column.dtype !== "str") {
    if (typeof pattern !== "string") throw patternError(pattern);
    const re = tryPythonRegex(pattern, { ignoreCase: true });
    if (re instanceof PythonRegexError) throw new PyError(re.message.slice(0, re.message.length - ` in ${JSON.stringify(pattern)}`.length));
    const mask = column.values.map((x) => (typeof x === "string" ? re.search(x) !== null : undefined));
    if (!naFalse && mask.some((m) => m === undefined)) throw new PyError("Cannot mask with non-boolean array containing NA / NaN values");
    return mask.map((m) => m === true);
  }
  if (typeof pattern !== "string") throw patternError(pattern);
  // pyarrow compiles nothing for an empty column.
  if (column.values.length === 0) return [];
  const re = re2(pattern);
  return column.values.map((x) => typeof x === "string" && re.test(x));
}

/** The error str.contains raises for a pattern that is not a str. */
function patternError(pattern: unknown): PyError {
  if (Array.isArray(pattern)) return new PyError("unhashable type: 'list'");
  if (pattern !== null && typeof pattern === "object") return new PyError("unhashable type: 'dict'");
  return new PyError("first argument must be string or compiled pattern");
}

const cache = new Map<string, RegExp>();

function re2(pattern: unknown): RegExp {
  if (typeof pattern !== "string") throw patternError(pattern);
  let re = cache.get(pattern);
  if (re) return re;
  const problem = re2Problem(pattern);
  if (problem) throw new PyError(`Invalid regular expression: ${problem}`);
  try {
    re = new RegExp(pattern, "iu");
  } catch {
    try {
      re = new RegExp(pattern, "i");
    } catch {
      throw new PyError(`Invalid regular expression: ${pattern}`);
    }
  }
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** RE2's message for a malformed pattern (the common cases), or undefined. */
function re2Problem(p: string): string | undefined {
  let depth = 0;
  let atomBefore = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") {
      if (i === p.length - 1) return "trailing \\";
      i++;
      atomBefore = true;
      continue;
    }
    if (c === "[") {
      let j = i + 1;
      if (p[j] === "^") j++;
      if (p[j] === "]") j++;
      while (j < p.length && p[j] !== "]") j += p[j] === "\\" ? 2 : 1;
      if (j >= p.length) return `missing ]: ${p.slice(i)}`;
      i = j;
      atomBefore = true;
      continue;
    }
    if (c === "(") {
      depth++;
      atomBefore = false;
      if (p[i + 1] === "?") i++;
      continue;
    }
    if (c === ")") {
      if (depth === 0) return `unexpected ): ${p}`;
      depth--;
      atomBefore = true;
      continue;
    }
    if (c === "*" || c === "+" || c === "?") {
      if (!atomBefore) return `no argument for repetition operator: ${c}`;
      if (p[i + 1] === "?") i++;
      atomBefore = false;
      // A repeated repetition (a**) is an error in RE2 too.
      if (p[i + 1] === "*" || p[i + 1] === "+") return `bad repetition operator: ${p.slice(i, i + 2)}`;
      continue;
    }
    if (c === "|") {
      atomBefore = false;
      continue;
    }
    if (c === "^" || c === "$") {
      atomBefore = true;
      continue;
    }
    atomBefore = true;
  }
  if (depth > 0) return `missing ): ${p}`;
  return undefined;
}

/** A tool's result as JSON goes out (pydantic writes NaN as null). */
export function toJson(v: unknown): unknown {
  if (v === NA) return null;
  if (v instanceof PyFloat) return Number.isNaN(v.value) ? null : v;
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJson(x);
    return out;
  }
  return v;
}
