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

// Secrets cut out of every line, in case one slips into a message (the mesh's bearer token).
const secrets = new Set<string>();

/** Every later log line shows "[redacted]" where this secret (or its JSON-escaped form) would be. */
export function hideInLogs(secret: string): void {
  if (secret.length >= 8) secrets.add(secret).add(JSON.stringify(secret).slice(1, -1));
}

function write(level: LogLevel, event: string, fields: LogFields): void {
  if (LEVELS.indexOf(level) < LEVELS.indexOf(threshold)) return;
  let line = JSON.stringify({ time: new Date().toISOString(), level, event, ...fields });
  for (const secret of secrets) if (line.includes(secret)) line = line.split(secret).join("[redacted]");
  process.stderr.write(line + "\n");
}

export const log = {
  info: (event: string, fields: LogFields = {}) => write("info", event, fields),
  warn: (event: string, fields: LogFields = {}) => write("warn", event, fields),
  error: (event: string, fields: LogFields = {}) => write("error", event, fields),
};
