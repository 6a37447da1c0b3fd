// The calendar tools over processed/calendar_events.csv (event_id,
// event_name, participant_email, event_start, duration). Event ids are
// 8-digit strings; created events get the largest id + 1.
import { DECLARATIONS } from "./declarations.js";
import { lower, paginate, PyError, pyInt, PyValueError, truthy } from "./py.js";
import { column, appendRow, col, containsValue, eqMask, filterRows, records, setWhere, strContains, strMax, type Cell } from "./tables.js";
import { compareTs, timestamp, type Timestamp } from "./timestamps.js";
import { workplaceTool } from "./toolkit.js";

const INFO_FIELDS = ["event_id", "event_name", "participant_email", "event_start", "duration"];
const UPDATE_FIELDS = ["event_name", "participant_email", "event_start", "duration"];

function validId(id: unknown): boolean {
  return typeof id === "string" && id.length === 8 && /^[0-9\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19]{8}$/u.test(id);
}

/** `field not in [...]` for a list of strs: any value compares by equality. */
function oneOf(v: unknown, list: readonly string[]): boolean {
  return typeof v === "string" && list.includes(v);
}

/** pd.Timestamp(v) where only ValueError is caught and reported as `message`. */
function checkTimestamp(v: unknown, message: string): string | undefined {
  try {
    timestamp(v);
    return undefined;
  } catch (err) {
    if (err instanceof PyValueError) return message;
    throw err;
  }
}

/** int(v) > 0, with the release's messages for a non-positive or unreadable duration. */
function checkDuration(v: unknown): string | undefined {
  try {
    if (pyInt(v) <= 0) return "Duration must be a positive number of minutes.";
    return undefined;
  } catch (err) {
    if (err instanceof PyValueError) return "Invalid duration format. Expected a number of minutes.";
    throw err;
  }
}

export const getEventInformationById = workplaceTool(DECLARATIONS.calendar_get_event_information_by_id!, (t, { event_id, field }) => {
  if (!truthy(event_id)) return "Event ID not provided.";
  if (!truthy(field)) return "Field not provided.";
  if (!validId(event_id)) return "Invalid event ID format. Expected 8-digit ID.";
  if (!oneOf(field, INFO_FIELDS)) return `Invalid field. Available fields are: ${INFO_FIELDS.join(", ")}`;
  const found = records(filterRows(t.calendar, eqMask(col(t.calendar, "event_id"), event_id)));
  if (found.length === 0) return "Event not found.";
  return { [field as string]: found[0]![field as string]! };
});

export const searchEvents = workplaceTool(DECLARATIONS.calendar_search_events!, (t, { query, time_min, time_max, page, page_size }) => {
  let min: Timestamp | undefined;
  let max: Timestamp | undefined;
  if (truthy(time_min)) {
    const bad = checkTimestamp(time_min, "Invalid time_min format. Expected YYYY-MM-DD HH:MM:SS.");
    if (bad) return bad;
    min = timestamp(time_min);
  }
  if (truthy(time_max)) {
    const bad = checkTimestamp(time_max, "Invalid time_max format. Expected YYYY-MM-DD HH:MM:SS.");
    if (bad) return bad;
    max = timestamp(time_max);
  }
  const byName = strContains(column(t.calendar, "event_name"), query, true);
  const byEmail = strContains(column(t.calendar, "participant_email"), query, true);
  let events = records(filterRows(t.calendar, byName.map((b, i) => b || byEmail[i]!)));
  const start = (e: Record<string, Cell>) => timestamp(e.event_start);
  // `if time_min:` on a Timestamp: NaT is falsy, any other timestamp truthy.
  if (min && !min.nat) events = events.filter((e) => compareTs(start(e), ">=", min));
  if (max && !max.nat) events = events.filter((e) => compareTs(start(e), "<=", max));
  if (events.length === 0) return "No events found.";
  // Most recent first; a stable sort, equal starts keep their order.
  const keyed = events.map((e) => ({ e, ms: start(e).ms }));
  keyed.sort((a, b) => b.ms - a.ms);
  events = keyed.map((k) => k.e);
  const p = paginate(events.length, page, page_size);
  return {
    events: p.slice(events),
    pagination: { total_events: events.length, page: p.page, page_size, total_pages: p.totalPages },
  };
});

export const createEvent = workplaceTool(DECLARATIONS.calendar_create_event!, (t, { event_name, participant_email, event_start, duration }) => {
  if (!truthy(event_name)) return "Event name not provided.";
  if (!truthy(participant_email)) return "Participant email not provided.";
  if (!truthy(event_start)) return "Event start not provided.";
  if (!truthy(duration)) return "Event duration not provided.";
  const badStart = checkTimestamp(event_start, "Invalid event_start format. Expected YYYY-MM-DD HH:MM:SS.");
  if (badStart) return badStart;
  const badDuration = checkDuration(duration);
  if (badDuration) return badDuration;
  const email = lower(participant_email);
  const max = strMax(col(t.calendar, "event_id"));
  if (typeof max !== "string") throw new PyError("int() argument must be a string, a bytes-like object or a real number, not 'float'");
  const id = String(pyInt(max) + 1).padStart(8, "0");
  t.calendar = appendRow(t.calendar, { event_id: id, event_name, participant_email: email, event_start, duration }, false);
  return id;
});

export const deleteEvent = workplaceTool(DECLARATIONS.calendar_delete_event!, (t, { event_id }) => {
  if (!truthy(event_id)) return "Event ID not provided.";
  if (!validId(event_id)) return "Invalid event ID format. Expected 8-digit ID.";
  const ids = col(t.calendar, "event_id");
  if (!containsValue(ids, event_id)) return "Event not found.";
  t.calendar = filterRows(t.calendar, ids.map((v) => v !== event_id));
  return "Event deleted successfully.";
});

export const updateEvent = workplaceTool(DECLARATIONS.calendar_update_event!, (t, { event_id, field, new_value }) => {
  if (!truthy(event_id) || !truthy(field) || !truthy(new_value)) return "Event ID, field, or new value not provided.";
  if (!validId(event_id)) return "Invalid event ID format. Expected 8-digit ID.";
  if (!oneOf(field, UPDATE_FIELDS)) return `Invalid field. Available fields are: ${UPDATE_FIELDS.join(", ")}`;
  if (field === "event_start") {
    const bad = checkTimestamp(new_value, "Invalid event_start format. Expected YYYY-MM-DD HH:MM:SS.");
    if (bad) return bad;
  } else if (field === "duration") {
    const bad = checkDuration(new_value);
    if (bad) return bad;
  }
  const ids = col(t.calendar, "event_id");
  if (!containsValue(ids, event_id)) return "Event not found.";
  const value = field === "participant_email" ? lower(new_value) : new_value;
  t.calendar = setWhere(t.calendar, eqMask(ids, event_id), field as string, value);
  return "Event updated successfully.";
});

export const calendarTools = [getEventInformationById, searchEvents, createEvent, deleteEvent, updateEvent];
