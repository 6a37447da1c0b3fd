// The email tools over processed/emails.csv (email_id, inbox/outbox,
// sender/recipient, subject, sent_datetime, body). New emails are "sent" at
// the release's fixed clock, 2023-11-30 23:59:00.
import { pySplit } from "../../pycompat/str.js";
import { DECLARATIONS } from "./declarations.js";
import { lower, paginate, PyError, pyInt, pyStr, strIn, truthy } from "./py.js";
import { appendRow, col, containsValue, eqMask, filterRows, NA, records, strMax, type Cell } from "./tables.js";
import { dayOf, timestamp } from "./timestamps.js";
import { workplaceTool, type Tables } from "./toolkit.js";

/** The release's HARDCODED_CURRENT_TIME, as str(pd.Timestamp) writes it. */
export const CURRENT_TIME = "2023-11-30 23:59:00";

/** An error a tool catches and reports as "<what>: <message>". */
function caught<T>(what: string, work: () => T): T | string {
  try {
    return work();
  } catch (err) {
    if (err instanceof PyError) return `${what}: ${err.message}`;
    throw err;
  }
}

export const getEmailInformationById = workplaceTool(DECLARATIONS.email_get_email_information_by_id!, (t, { email_id, field }) => {
  if (!truthy(email_id)) return "Email ID not provided.";
  if (!truthy(field)) return "Field not provided.";
  return caught("Error retrieving email information", () => {
    const found = records(filterRows(t.emails, eqMask(col(t.emails, "email_id"), email_id)));
    if (found.length === 0) return "Email not found.";
    const row = found[0]!;
    if (typeof field === "string" && Object.hasOwn(row, field)) return { [field]: row[field]! };
    if (field !== null && typeof field === "object") throw new PyError(`unhashable type: '${Array.isArray(field) ? "list" : "dict"}'`);
    return `Field '${pyStr(field)}' not found. Available fields: ${Object.keys(row).join(", ")}`;
  });
});

export const searchEmails = workplaceTool(DECLARATIONS.email_search_emails!, (t, { query, date_min, date_max, page, page_size }) =>
  caught("Error searching emails", () => {
    const words = pySplit(lower(query));
    const subject = col(t.emails, "subject");
    const body = col(t.emails, "body");
    const who = col(t.emails, "sender/recipient");
    const keep = subject.map((s, i) => {
      const combined = `${cellStr(s)} ${cellStr(body[i]!)} ${cellStr(who[i]!)}`.toLowerCase();
      return words.every((w) => combined.includes(w));
    });
    const found = filterRows(t.emails, keep);
    // Newest first (pd.to_datetime + sort_values(ascending=False)). numpy's quicksort is not
    // stable: equal times (emails sent in the session) keep their order in a sort of up to 16
    // rows (its insertion sort) and come out reversed in a larger one, as the release's
    // numpy does for the usual handful of ties.
    const times = col(found, "sent_datetime").map((v) => timestamp(v === NA ? "" : v).ms);
    const tie = times.length > 16 ? -1 : 1;
    const order = times.map((_, i) => i).sort((a, b) => times[b]! - times[a]! || tie * (a - b));
    const rows = records(found);
    let emails = order.map((i) => rows[i]!);
    const sentDay = (e: Record<string, Cell>) => dayOf(timestamp(e.sent_datetime));
    // The bounds are parsed per email, as the release's comprehensions do: with no email left, never.
    if (truthy(date_min) && emails.length > 0) {
      emails = emails.filter((e) => sentDay(e) >= dayOf(timestamp(date_min)));
    }
    if (truthy(date_max) && emails.length > 0) {
      emails = emails.filter((e) => sentDay(e) <= dayOf(timestamp(date_max)));
    }
    const p = paginate(emails.length, page, page_size);
    if (emails.length === 0) return "No emails found.";
    return {
      emails: p.slice(emails),
      pagination: { total_emails: emails.length, page: p.page, page_size, total_pages: p.totalPages },
    };
  }),
);

/** A cell as an f-string writes it (NaN as "nan"). */
function cellStr(v: Cell): string {
  return v === NA ? "nan" : pyStr(v);
}

/** send_email's work, shared by forward and reply; returns the output and the tables after. */
function send(t: Tables, recipient: unknown, subject: unknown, body: unknown): string {
  if (!truthy(recipient) || !truthy(subject) || !truthy(body)) return "Recipient, subject, or body not provided.";
  if (!strIn("@", recipient) || !strIn(".", recipient)) return "Invalid recipient email address.";
  const r = caught("Error sending email", () => {
    const to = lower(recipient);
    const max = strMax(col(t.emails, "email_id"));
    const id = t.emails.index.length === 0 ? "1" : String(pyInt(max === NA ? NaN : max) + 1);
    t.emails = appendRow(
      t.emails,
      { email_id: id, "inbox/outbox": "outbox", "sender/recipient": to, subject, sent_datetime: CURRENT_TIME, body },
      true,
    );
    return "Email sent successfully.";
  });
  return r;
}

export const sendEmail = workplaceTool(DECLARATIONS.email_send_email!, (t, { recipient, subject, body }) => send(t, recipient, subject, body));

export const deleteEmail = workplaceTool(DECLARATIONS.email_delete_email!, (t, { email_id }) => {
  if (!truthy(email_id)) return "Email ID not provided.";
  return caught("Error deleting email", () => {
    const ids = col(t.emails, "email_id");
    if (!containsValue(ids, email_id)) return "Email not found.";
    t.emails = filterRows(t.emails, ids.map((v) => v !== email_id));
    return "Email deleted successfully.";
  });
});

function relay(t: Tables, emailId: unknown, recipient: unknown, subjectPrefix: string, body: unknown, what: string, done: string): string {
  return caught(`Error ${what} email`, () => {
    if (!containsValue(col(t.emails, "email_id"), emailId)) return "Email not found.";
    const email = records(filterRows(t.emails, eqMask(col(t.emails, "email_id"), emailId)))[0]!;
    const to = recipient === undefined ? email["sender/recipient"] : lower(recipient);
    const result = send(t, to, `${subjectPrefix}${cellStr(email.subject!)}`, body === undefined ? email.body : body);
    if (result.includes("Error") || result.includes("Invalid")) return result;
    return done;
  });
}

export const forwardEmail = workplaceTool(DECLARATIONS.email_forward_email!, (t, { email_id, recipient }) => {
  if (!truthy(email_id) || !truthy(recipient)) return "Email ID or recipient not provided.";
  if (!strIn("@", recipient) || !strIn(".", recipient)) return "Invalid recipient email address.";
  return relay(t, email_id, recipient, "FW: ", undefined, "forwarding", "Email forwarded successfully.");
});

export const replyEmail = workplaceTool(DECLARATIONS.email_reply_email!, (t, { email_id, body }) => {
  if (!truthy(email_id) || !truthy(body)) return "Email ID or body not provided.";
  return relay(t, email_id, undefined, "RE: ", body, "replying to", "Email replied successfully.");
});

export const emailTools = [getEmailInformationById, searchEmails, sendEmail, deleteEmail, forwardEmail, replyEmail];
