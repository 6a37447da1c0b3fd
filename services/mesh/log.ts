// Structured logs: one JSON object per line on stderr, so they can be shipped
// and queried as is. Secrets never go through here: callers log names, not keys.

export type LogFields = Record<string, unknown>;

let quiet = process.env.GYM_LOG === "off";

export function setQuiet(value: boolean): void {
  quiet = value;
}

function write(level: string, event: string, fields: LogFields): void {
  if (quiet) return;
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + "\n");
}

export const log = {
  info: (event: string, fields: LogFields = {}) => write("info", event, fields),
  warn: (event: string, fields: LogFields = {}) => write("warn", event, fields),
  error: (event: string, fields: LogFields = {}) => write("error", event, fields),
};
