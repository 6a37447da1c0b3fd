// The release's state-based verifier (utils.is_correct): the predicted
// function calls and the ground-truth calls are each replayed on fresh
// tables, and the reward is 1.0 when the five writable tables (calendar,
// emails, plots, project tasks, CRM) end up equal, as DataFrame.equals sees
// them (row labels, columns, dtypes and values), after lowercasing every
// column but status, list_name and board. A call that fails (unknown tool,
// arguments that are not a JSON object, unknown argument names, a Python
// error inside the tool) is skipped, on either side; what it wrote before
// failing stays. The session's own tables play no part.
import { pyEquals } from "../../pycompat/values.js";
import { pyJsonLoads } from "../../pycompat/json-loads.js";
import { PyError } from "./py.js";
import { NA, type Cell, type Column, type Frame } from "./tables.js";
import { bind, type Tables, type WorkplaceTool } from "./toolkit.js";

export interface Action {
  name: unknown;
  arguments: unknown;
}

/** The tables after running the actions in order on a fresh copy of `fresh`. */
export function replay(fresh: Tables, tools: ReadonlyMap<string, WorkplaceTool>, actions: readonly Action[]): Tables {
  const t: Tables = { ...fresh };
  for (const action of actions) {
    const tool = typeof action.name === "string" ? tools.get(action.name) : undefined;
    if (!tool || typeof action.arguments !== "string") continue;
    let args: unknown;
    try {
      args = pyJsonLoads(action.arguments);
    } catch {
      continue;
    }
    if (args === null || typeof args !== "object" || Array.isArray(args)) continue;
    try {
      // No None filtering here (unlike a tool call): null is passed as None.
      tool.run(t, bind(tool, args as Record<string, unknown>));
    } catch (err) {
      if (!(err instanceof PyError)) throw err;
    }
  }
  return t;
}

const CASE_SENSITIVE = new Set(["status", "list_name", "board"]);

/** df[col].str.lower() for every column but status, list_name and board. */
function lowered(f: Frame): Frame {
  const data: Record<string, Column> = {};
  for (const c of f.columns) {
    const column = f.data[c]!;
    if (CASE_SENSITIVE.has(c)) {
      data[c] = column;
      continue;
    }
    const values = column.values.map((v): Cell => (typeof v === "string" ? v.toLowerCase() : column.dtype === "str" ? NA : v === null ? null : NA));
    data[c] = { dtype: column.dtype, values };
  }
  return { ...f, data };
}

function missing(v: Cell): boolean {
  return v === NA || v === null;
}

/** DataFrame.equals: same row labels, columns, dtypes, and values (NaN and None alike). */
export function framesEqual(a: Frame, b: Frame): boolean {
  if (a.index.length !== b.index.length || a.index.some((x, i) => x !== b.index[i])) return false;
  if (a.columns.length !== b.columns.length || a.columns.some((c, i) => c !== b.columns[i])) return false;
  return a.columns.every((c) => {
    const x = a.data[c]!;
    const y = b.data[c]!;
    if (x.dtype !== y.dtype) return false;
    return x.values.every((v, i) => {
      const w = y.values[i]!;
      if (missing(v) || missing(w)) return missing(v) && missing(w);
      return pyEquals(v, w);
    });
  });
}

/** utils.is_correct: the two replays leave the writable tables equal (case-insensitively where the release lowercases). */
export function isCorrect(fresh: Tables, tools: ReadonlyMap<string, WorkplaceTool>, predicted: readonly Action[], groundTruth: readonly Action[]): boolean {
  const p = replay(fresh, tools, predicted);
  const g = replay(fresh, tools, groundTruth);
  const keys: (keyof Tables)[] = ["calendar", "emails", "plots", "tasks", "crm"];
  return keys.every((k) => framesEqual(lowered(p[k]), lowered(g[k])));
}
