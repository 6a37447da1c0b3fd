// Stopping the long-running commands (`gym serve`, `gym collect`): the first
// SIGTERM or SIGINT asks for a clean stop, a second one exits at once with
// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
//
// Under npm (`npx gym serve`, `npm run gym -- collect ...`), npm may exit on
// SIGTERM without passing it on, which would leave this process running with
// no parent. So when npm started it, it also watches its parent: a parent gone
// (this process adopted by another) counts as SIGTERM.

export type StopSignal = "SIGTERM" | "SIGINT";

/** Exit codes of a command stopped by a signal: 128 + its number. */
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

const PARENT_POLL_MS = 500;

/** Started by npm or npx (which set these for what they run, and do not always pass SIGTERM on). */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.npm_command || env.npm_execpath || env.npm_lifecycle_event);
}

/**
 * Calls `onFirst` at the first SIGTERM/SIGINT (or when npm, the parent, is
 * gone); a second signal exits at once. Returns a function that removes the
 * handlers.
 */
export function onStopSignals(onFirst: (signal: StopSignal, why: string) => void): () => void {
  let received: StopSignal | undefined;
  const handler = (signal: StopSignal, why: string = signal) => {
    if (received) {
      process.stderr.write(`gym: ${signal} again: exiting now\n`);
      process.exit(SIGNAL_EXIT[signal]);
    }
    received = signal;
    onFirst(signal, why);
  };
  const onTerm = () => handler("SIGTERM");
  const onInt = () => handler("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  let poll: ReturnType<typeof setInterval> | undefined;
  const parent = process.ppid;
  if (startedByNpm() && parent > 1) {
    poll = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(poll);
      if (!received) handler("SIGTERM", `its parent process (pid ${parent}, under npm) is gone`);
    }, PARENT_POLL_MS);
    poll.unref();
  }
  return () => {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    clearInterval(poll);
  };
}
