// Structured logs: one JSON object per line on stderr, so they can be shipped
// and queried as is. Secrets never go through here: callers log names, not keys.

export type LogFields = Record<string, unknown>;

const LEVELS = ["info", "warn", "error", "off"] as const;
export type LogLevel = (typeof LEVELS)[number];

// GYM_LOG=info|warn|error|off sets the least severe level written.
const fromEnv = LEVELS.find((l) => l === process.env.GYM_LOG);
let threshold: LogLevel = fromEnv ?? "info";

/** Sets the level unless GYM_LOG chose one (the user's word wins). */
export function setDefaultLogLevel(level: LogLevel): void {
  if (!fromEnv) threshold = level;
}

export function setQuiet(value: boolean): void {
  threshold = value ? "off" : (fromEnv ?? "info");
}

function write(level: LogLevel, event: string, fields: LogFields): void {
  if (LEVELS.indexOf(level) < LEVELS.indexOf(threshold)) return;
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + "\n");
}

export const log = {
  info: (event: string, fields: LogFields = {}) => write("info", event, fields),
  warn: (event: string, fields: LogFields = {}) => write("warn", event, fields),
  error: (event: string, fields: LogFields = {}) => write("error", event, fields),
};
