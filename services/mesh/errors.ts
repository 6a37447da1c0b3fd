// Expected failures, reported to the user as one line with no stack.

/** A mistake in what the user asked for (a file, a flag). */
export class UsageError extends Error {}

/** A mistake in a mesh config: the message names the file or field and says what is wrong. */
export class ConfigError extends UsageError {}
