// pd.Timestamp(value) for the dates and times the tools parse: ISO 8601
// (pandas' own parser) and the common dateutil forms (2023/11/30,
// 11/30/2023, 30/11/2023, Nov 30 2023, 30 November 2023), with pandas'
// errors for the rest. Naive times are kept as if UTC; a zone makes the
// timestamp aware, which a comparison with a naive one refuses.
import { PyError, PyValueError, typeName } from "./py.js";
import { pyRepr } from "../../pycompat/repr.js";

export interface Timestamp {
  /** Milliseconds since the epoch (naive times read as UTC, aware ones converted to UTC). */
  ms: number;
  aware: boolean;
  /** NaT (pd.Timestamp("")). */
  nat?: boolean;
  /** A year before 1 (pandas reads "-5" as the year -5): no Python date. */
  beforeYear1?: boolean;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function monthOf(word: string): number | undefined {
  const w = word.toLowerCase();
  const full = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
  const i = MONTHS.indexOf(w) >= 0 ? MONTHS.indexOf(w) : full.indexOf(w) >= 0 ? full.indexOf(w) : w === "sept" ? 8 : -1;
  return i >= 0 ? i + 1 : undefined;
}

const ISO = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[Tt ]\s*(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

function build(text: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0, frac = "", zone?: string): Timestamp {
  if (y < 1 || y > 9999) throw new PyValueError(`year ${y} is out of range: ${text}`);
  if (mo < 1 || mo > 12) throw new PyValueError(`month must be in 1..12: ${text}`);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > days) throw new PyValueError(`day is out of range for month: ${text}`);
  if (h > 23) throw new PyValueError(`hour must be in 0..23: ${text}`);
  if (mi > 59) throw new PyValueError(`minute must be in 0..59: ${text}`);
  if (s > 59) throw new PyValueError(`second must be in 0..59: ${text}`);
  const base = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(base);
  date.setUTCFullYear(y);
  let ms = date.getTime() + (frac ? Number(`0.${frac}`) * 1000 : 0);
  if (zone && !["Z", "z", "UTC", "GMT"].includes(zone)) {
    const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    ms -= (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60000;
  }
  return { ms, aware: zone !== undefined };
}

/** pd.Timestamp(value). ValueError (DateParseError) for text it cannot read; TypeError for other kinds of value. */
export function timestamp(value: unknown): Timestamp {
  if (typeof value === "number") return { ms: value / 1e6, aware: false };
  if (typeof value !== "string") {
    throw new PyError(`Cannot convert input [${pyRepr(value)}] of type <class '${typeName(value)}'> to Timestamp`);
  }
  const text = value;
  const t = text.trim();
  if (t === "" || t.toLowerCase() === "nat") return { ms: NaN, aware: false, nat: true };
  if (t.toLowerCase() === "now" || t.toLowerCase() === "today") return { ms: Date.now(), aware: false };
  let m = ISO.exec(t);
  if (m) return build(text, +m[1]!, m[2] ? +m[2] : 1, m[3] ? +m[3] : 1, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0, m[7] ?? "", m[8]);
  // A signed year ("-5": the year -5), as pandas' ISO parser reads it.
  if ((m = /^-(\d+)$/.exec(t))) return { ms: yearStart(-Number(m[1])), aware: false, beforeYear1: true };
  if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(t))) return build(text, +m[1]!, +m[2]!, +m[3]!);
  if (!looksLikeDatetime(t)) throw new PyValueError(`Given date string "${text}" not likely a datetime`);
  return dateutilParse(text, t);
}

/** dateutil's parser for the forms models write: tokens of date, time, am/pm and zone; what is missing comes from 0001-01-01. */
function dateutilParse(text: string, t: string): Timestamp {
  const fail = () => new PyValueError(`Unknown datetime string format, unable to parse: ${text}`);
  const tokens = t.toLowerCase().replace(/,/g, " ").split(/\s+/).filter((w) => w !== "" && w !== "at" && w !== "on" && w !== "of");
  let y: number | undefined;
  let mo: number | undefined;
  let d: number | undefined;
  let time: { h: number; mi: number; s: number; frac: string } | undefined;
  let zone: string | undefined;
  let m: RegExpExecArray | null;
  for (const w of tokens) {
    if ((m = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?(am|pm)?$/.exec(w))) {
      time = { h: ampm(+m[1]!, m[5]), mi: +m[2]!, s: m[3] ? +m[3] : 0, frac: m[4] ?? "" };
    } else if ((m = /^(\d{1,2})(am|pm)$/.exec(w))) {
      time = { h: ampm(+m[1]!, m[2]), mi: 0, s: 0, frac: "" };
    } else if (w === "am" || w === "pm") {
      if (!time) throw fail();
      time.h = ampm(time.h, w);
    } else if (w === "z" || w === "utc" || w === "gmt") {
      zone = "Z";
    } else if (/^[+-]\d{2}:?\d{2}$/.test(w)) {
      zone = w;
    } else if (monthOf(w)) {
      mo = monthOf(w);
    } else if (WEEKDAYS.includes(w)) {
      continue;
    } else if ((m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(w))) {
      [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
    } else if ((m = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{1,2})$/.exec(w))) {
      const a = +m[1]!;
      const b = +m[3]!;
      y = m[4]!.length <= 2 ? 2000 + +m[4]! : +m[4]!;
      // Month first (day first with dots), unless the first number cannot be a month.
      [mo, d] = m[2] === "." || a > 12 ? [b, a] : [a, b];
    } else if ((m = /^(\d{1,2})\/(\d{1,2})$/.exec(w))) {
      [mo, d] = [+m[1]!, +m[2]!];
    } else if ((m = /^(\d{1,2})(?:st|nd|rd|th|\.\d+)$/.exec(w)) && d === undefined) {
      d = +m[1]!; // an ordinal day (30th); a decimal's integer part is read as the day too
    } else if (/^\d+$/.test(w)) {
      if (w.length >= 3) {
        if (y !== undefined) throw fail();
        y = Number(w);
      } else if (d === undefined) d = Number(w);
      else if (y === undefined) y = 2000 + Number(w);
      else throw fail();
    } else {
      throw fail();
    }
  }
  if (y === undefined && mo === undefined && d === undefined && !time) throw tokens.length > 0 && tokens.every((w) => WEEKDAYS.includes(w)) ? new PyValueError(`Unable to parse datetime string: ${text}`) : fail();
  if (y !== undefined && (y < 1 || y > 9999)) throw new PyValueError(`year ${y} is out of range: ${text}`);
  return build(text, y ?? 1, mo ?? 1, d ?? 1, time?.h ?? 0, time?.mi ?? 0, time?.s ?? 0, time?.frac ?? "", zone);
}

function ampm(h: number, marker: string | undefined): number {
  if (marker === "pm" && h < 12) return h + 12;
  if (marker === "am" && h === 12) return 0;
  return h;
}

/** pandas' check before dateutil: one of a few letters, or a number below 1000 (not starting with 0), is no date. */
function looksLikeDatetime(s: string): boolean {
  if (s.startsWith("0")) return true;
  if (["a", "A", "m", "M", "p", "P", "t", "T"].includes(s)) return false;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s) >= 1000;
  return true;
}

function yearStart(year: number): number {
  const d = new Date(Date.UTC(2000, 0, 1));
  d.setUTCFullYear(year);
  return d.getTime();
}

/** a >= b (or <=) of two timestamps; TypeError between naive and aware ones. */
export function compareTs(a: Timestamp, op: ">=" | "<=", b: Timestamp): boolean {
  if (a.aware !== b.aware) throw new PyError("Cannot compare tz-naive and tz-aware timestamps");
  if (a.nat || b.nat) return false;
  return op === ">=" ? a.ms >= b.ms : a.ms <= b.ms;
}

/** ts.date() as a day number (days since the epoch, local to the timestamp's own zone for naive ones). */
export function dayOf(ts: Timestamp): number {
  if (ts.nat) throw new PyError("NaTType does not support date");
  if (ts.beforeYear1) throw new PyValueError("date not yet supported on Timestamps which are outside the range of Python's standard library. ");
  return Math.floor(ts.ms / 86400000);
}
