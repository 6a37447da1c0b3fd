// Python's tomllib.loads(text) (TOML 1.0.0) on smol-toml (TOML 1.1.0, held to
// 1.0 by toml10.ts), with tomllib's
// types: dates and times are datetime.date / datetime.time /
// datetime.datetime objects (no JSON type, see objects.ts), integers and
// floats numbers (integers past 2^53 lose precision here), tables plain objects.
import { parse, TomlDate, TomlError } from "smol-toml";
import { PyOpaqueFactory, setOwn } from "./objects.js";
import { checkToml10, Toml10Error } from "./toml10.js";

/** tomllib.TOMLDecodeError (or ValueError for an impossible date). */
export class PyTomlError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** tomllib.loads(text). */
export function pyTomlLoads(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    checkToml10(text);
    doc = parse(text, { integersAsBigInt: "asNeeded" });
  } catch (err) {
    if (err instanceof TomlError || err instanceof Toml10Error) throw new PyTomlError("TOMLDecodeError", err.message.split("\n")[0]!);
    throw err;
  }
  return convert(doc, new PyOpaqueFactory()) as Record<string, unknown>;
}

function convert(v: unknown, objects: PyOpaqueFactory): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof TomlDate) return dateValue(v, objects);
  if (Array.isArray(v)) return v.map((x) => convert(x, objects));
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, k, convert(x, objects));
    return out;
  }
  return v;
}

/** The datetime object tomllib makes, as an opaque value with its repr. */
function dateValue(d: TomlDate, objects: PyOpaqueFactory): unknown {
  const iso = d.toISOString();
  const m = /^(?:(\d{4})-(\d{2})-(\d{2}))?[T ]?(?:(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/i.exec(iso);
  if (!m) throw new PyTomlError("TOMLDecodeError", `Invalid date or time: ${iso}`);
  const date = m[1] ? `${Number(m[1])}, ${Number(m[2])}, ${Number(m[3])}` : null;
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  const micro = m[7] ? Number(m[7].slice(0, 6).padEnd(6, "0")) : 0;
  const clock = m[4] ? [h, min, ...(s || micro ? [s] : []), ...(micro ? [micro] : [])].join(", ") : null;
  if (date && !clock) return objects.make("date", `datetime.date(${date})`);
  if (!date) return objects.make("time", `datetime.time(${clock})`);
  if (!m[8]) return objects.make("datetime", `datetime.datetime(${date}, ${clock})`, `naive ${iso}`);
  const offset = m[8].toUpperCase() === "Z" ? 0 : (m[8][0] === "-" ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  const tz = offset === 0 ? "datetime.timezone.utc" : `datetime.timezone(${timedelta(offset)})`;
  // Aware datetimes compare equal when they are the same instant.
  return objects.make("datetime", `datetime.datetime(${date}, ${clock}, tzinfo=${tz})`, `aware ${d.getTime()}.${micro % 1000}`);
}

function timedelta(minutes: number): string {
  const days = Math.floor((minutes * 60) / 86400);
  const seconds = minutes * 60 - days * 86400;
  return `datetime.timedelta(${[...(days ? [`days=${days}`] : []), ...(seconds ? [`seconds=${seconds}`] : [])].join(", ")})`;
}
