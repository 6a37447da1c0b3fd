/** A mistake in what the user asked for (a file, a flag): reported as one line, no stack. */
export class UsageError extends Error {}
