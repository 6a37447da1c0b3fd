// The calendar grader of NeMo Gym 0.7.0 (resources_servers/calendar/utils.py):
// the calendar is the first JSON list of objects in the answer; it must hold
// exactly the expected events, none overlapping, each with its duration,
// inside its time window and meeting its constraint (before / after /
// between / at). Times are "10:30", "2pm" or "2:15pm".
import { pyBigIntFromString, PyValueError } from "../../pycompat/numbers.js";
import { pyStrip } from "../../pycompat/str.js";
import { addToInt, asStr, compare, fromJson, ge, getItem, gt, le, lt, PyError, pyEq, pyJsonLoads, pyStr, type PyDict, type PyValue } from "./py-values.js";

/** Python's int(s). */
function int(s: string): bigint {
  try {
    return pyBigIntFromString(s);
  } catch (err) {
    if (err instanceof PyValueError) throw new PyError("ValueError", err.message);
    throw err;
  }
}

/** `a, b = map(int, s.split(":"))`. */
function hourMinute(s: string): [bigint, bigint] {
  const parts = s.split(":");
  const ints = parts.slice(0, 3).map(int);
  if (parts.length !== 2) throw new PyError("ValueError", `${parts.length < 2 ? "not enough" : "too many"} values to unpack (expected 2)`);
  return [ints[0]!, ints[1]!];
}

/** time_to_minutes: "am"/"pm" anywhere means 12 h time ("12am" is 0, "12pm" 720); else "HH:MM". Minutes are not range-checked. */
export function timeToMinutes(value: PyValue): bigint {
  const t = pyStrip(asStr(value, "strip"));
  const hours = (h: bigint) => (h !== 12n ? h * 60n : 0n);
  if (t.includes("am") || t.includes("pm")) {
    const pm = !t.includes("am");
    const rest = t.replaceAll(pm ? "pm" : "am", "");
    const offset = pm ? 720n : 0n;
    if (!t.includes(":")) return hours(int(rest)) + offset;
    const [h, m] = hourMinute(rest);
    return hours(h) + offset + m;
  }
  const [h, m] = hourMinute(t);
  return h * 60n + m;
}

// \[(?:[^\[\]]|\{[^}]*\})*\{(?:[^\[\]]|\{[^}]*\})*\}(?:[^\[\]]|\{[^}]*\})*\] as a
// sequence of steps; the three (...)* loops are "any".
const STEPS = ["[", "any", "{", "any", "}", "any", "]"] as const;

/**
 * The span re.search would find for extract_json_list's pattern, or null.
 * Python (and JS) backtrack through that pattern in exponential time when
 * it fails (an unclosed list of objects); the first match in backtracking
 * order depends only on (step, position), so remembering it per pair gives
 * the same span in linear time.
 */
export function findJsonListSpan(text: string): [number, number] | null {
  const n = text.length;
  // The first "}" at or after each position (n when none).
  const nextClose = new Int32Array(n + 1);
  nextClose[n] = n;
  for (let p = n - 1; p >= 0; p--) nextClose[p] = text[p] === "}" ? p : nextClose[p + 1]!;
  // end[k][p]: where the match ends when step k starts at p, or -1.
  let after = new Int32Array(n + 1);
  for (let p = 0; p <= n; p++) after[p] = p;
  for (let k = STEPS.length - 1; k >= 0; k--) {
    const step = STEPS[k]!;
    const here = new Int32Array(n + 1);
    for (let p = n; p >= 0; p--) {
      if (step !== "any") {
        here[p] = p < n && text[p] === step ? after[p + 1]! : -1;
        continue;
      }
      // Greedy: one more item first ([^\[\]], then \{[^}]*\}), else leave the loop.
      let r = -1;
      const c = text[p];
      if (p < n && c !== "[" && c !== "]") r = here[p + 1]!;
      if (r < 0 && c === "{") {
        const close = nextClose[p + 1]!;
        if (close < n) r = here[close + 1]!;
      }
      here[p] = r >= 0 ? r : after[p]!;
    }
    after = here;
  }
  for (let p = 0; p < n; p++) if (after[p]! >= 0) return [p, after[p]!];
  return null;
}

/** extract_json_list: json.loads of the first match, None when there is none or it is not JSON (other errors propagate). */
export function extractJsonList(text: string): PyValue | null {
  const span = findJsonListSpan(text);
  if (!span) return null;
  try {
    return pyJsonLoads(text.slice(span[0], span[1]));
  } catch (err) {
    if (err instanceof PyError && err.type === "JSONDecodeError") return null;
    throw err;
  }
}

function startAndEnd(event: PyValue): [bigint, bigint | number] {
  const start = timeToMinutes(getItem(event, "start_time"));
  return [start, addToInt(start, getItem(event, "duration"))];
}

/** is_event_conflicting: does `check` overlap any event that is not equal (==) to `exclude`? */
export function isEventConflicting(events: PyValue[], check: PyValue, exclude: PyValue): boolean {
  const [start, end] = startAndEnd(check);
  for (const existing of events) {
    if (pyEq(existing, exclude)) continue;
    const [existingStart, existingEnd] = startAndEnd(existing);
    if (!(le(end, existingStart) || ge(start, existingEnd))) return true;
  }
  return false;
}

/** is_constraint_satisfied: duration, the [min_time, max_time] window, then the constraint. */
export function isConstraintSatisfied(event: PyValue, expected: PyValue): boolean {
  if (!pyEq(getItem(event, "duration"), getItem(expected, "duration"))) return false;
  const minTime = timeToMinutes(getItem(expected, "min_time"));
  const maxTime = timeToMinutes(getItem(expected, "max_time"));
  const [start, end] = startAndEnd(event);
  if (lt(start, minTime) || gt(end, maxTime)) return false;

  const constraint = getItem(expected, "constraint");
  if (constraint === null) return true;
  const c = asStr(constraint, "startswith");
  if (c.startsWith("before ")) return le(end, timeToMinutes(c.replaceAll("before ", "")));
  if (c.startsWith("after ")) return ge(start, timeToMinutes(c.replaceAll("after ", "")));
  if (c.startsWith("between ")) {
    const parts = c.replaceAll("between ", "").split(" and ");
    if (parts.length !== 2) throw new PyError("ValueError", `Invalid 'between' constraint format: ${c}`);
    const x = timeToMinutes(parts[0]!);
    const y = timeToMinutes(parts[1]!);
    return ge(start, x) && le(end, y);
  }
  if (c.startsWith("at ")) return compare(start, timeToMinutes(c.replaceAll("at ", ""))) === 0;
  // Any other constraint text is no constraint.
  return true;
}

export type GradeReason =
  | "pass"
  | "think_found"
  | "no_json_list"
  | "different_number_of_events"
  | "conflicting_events"
  | "constraint_violated"
  | "error_in_grading";

export interface Grade {
  reward: 0 | 1;
  reason: GradeReason;
}

/** grade_assistant_response(text, exp_cal_state) with allow_no_json_list=False, as the verifier calls it. */
export function gradeAssistantResponse(text: string, expCalState: Record<string, unknown>): Grade {
  if (text.includes("<think>")) return { reward: 0, reason: "think_found" };
  const expectedIds = Object.keys(expCalState);
  if (expectedIds.length === 0) return { reward: 1, reason: "pass" };
  try {
    const calState = extractJsonList(text);
    if (calState === null || (calState as PyValue[]).length === 0) return { reward: 0, reason: "no_json_list" };
    // The pattern starts with "[", so what json.loads made of it is a list.
    const events = calState as PyValue[];
    const byId: PyDict = new Map();
    for (const event of events) byId.set(pyStr(getItem(event, "event_id")), event);
    if (byId.size !== expectedIds.length) return { reward: 0, reason: "different_number_of_events" };
    for (const event of events) {
      if (isEventConflicting(events, event, event)) return { reward: 0, reason: "conflicting_events" };
    }
    for (const id of expectedIds) {
      if (!isConstraintSatisfied(getItem(byId, id), fromJson(expCalState[id]))) return { reward: 0, reason: "constraint_violated" };
    }
  } catch (err) {
    // Python's bare `except:`; a JS stack overflow stands for its RecursionError.
    if (err instanceof PyError || err instanceof RangeError) return { reward: 0, reason: "error_in_grading" };
    throw err;
  }
  return { reward: 1, reason: "pass" };
}
