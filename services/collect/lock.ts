// One writer per output: `gym collect` holds `<stem>.lock` beside its output
// while it runs. The lock is a file created exclusively (O_EXCL) that names
// its holder (pid, host, start time); a second collector on the same output is
// refused with the holder's name. A lock whose holder is gone (kill -9, a
// crash) is taken over with a note: on this host, its pid is not alive, or is
// alive as another process (its start time differs). The lock is removed when
// the process exits in any way but SIGKILL.
import * as fs from "node:fs";
import * as os from "node:os";
import { UsageError } from "../mesh/errors.js";
import { fileError, writeAll } from "./files.js";

export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the holder took the lock. */
  since: string;
  /** The holder process's start time in clock ticks since boot (Linux), against pid reuse. */
  proc_start?: string;
}

/** Another collector holds the output. */
export class OutputLockedError extends UsageError {
  constructor(
    message: string,
    readonly holder: LockHolder,
  ) {
    super(message);
  }
}

export class OutputLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    private readonly text: string,
  ) {
    process.on("exit", this.onExit);
  }

  /**
   * Takes the lock of `output` (file `lockFile`), or throws OutputLockedError
   * naming the live holder. `note` hears about a stale lock taken over.
   */
  static acquire(lockFile: string, output: string, note: (message: string) => void = () => {}): OutputLock {
    const mine: LockHolder = { pid: process.pid, hostname: os.hostname(), since: new Date().toISOString(), proc_start: procStart(process.pid) };
    const text = JSON.stringify(mine) + "\n";
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = fs.openSync(lockFile, "wx");
        try {
          writeAll(fd, text);
        } finally {
          fs.closeSync(fd);
        }
        return new OutputLock(lockFile, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          fs.rmSync(lockFile, { force: true, maxRetries: 0 }); // a lock file cut short by a full disk is no lock
          throw fileError("create", lockFile, err);
        }
      }
      const found = readLock(lockFile);
      if (found === "gone") continue; // released in between
      const holder = found === "unreadable" ? undefined : found;
      if (holder && (holderAlive(holder) || attempt >= 3)) {
        const where = holder.hostname === os.hostname() ? "" : ` on ${holder.hostname}`;
        const hint = holder.hostname === os.hostname() ? "" : ` (or remove ${lockFile} if it is gone)`;
        throw new OutputLockedError(`${output} is being written by pid ${holder.pid}${where} (since ${holder.since}); wait for it or stop it${hint}`, holder);
      }
      if (!holder) {
        // Empty or garbled: a holder between creating and writing it (a moment),
        // or one that died right there. Old enough means the latter.
        if (ageMs(lockFile) < 2_000 && attempt < 3) {
          sleepSync(200);
          continue;
        }
        if (attempt >= 3) throw new UsageError(`${lockFile} is not a lock gym collect can read; remove it if no gym collect writes ${output}`);
      }
      note(holder ? `taking over ${lockFile}: pid ${holder.pid} (since ${holder.since}) is gone` : `taking over ${lockFile} (unreadable, left by a process that is gone)`);
      takeOver(lockFile);
    }
  }

  /** Removes the lock if it is still this process's. Safe to call more than once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off("exit", this.onExit);
    try {
      if (fs.readFileSync(this.file, "utf8") === this.text) fs.rmSync(this.file, { force: true });
    } catch {
      // gone already
    }
  }
}

function readLock(file: string): LockHolder | "gone" | "unreadable" {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw fileError("read", file, err);
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder?.pid) && typeof holder.hostname === "string" ? holder : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** Whether the lock's holder still runs (another host's holder is taken as alive: there is no telling). */
function holderAlive(holder: LockHolder): boolean {
  if (holder.hostname !== os.hostname()) return true;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // Alive: the same process, or a new one that got its pid?
  const start = procStart(holder.pid);
  return holder.proc_start === undefined || start === undefined || start === holder.proc_start;
}

/**
 * Removes a stale lock. Moved aside first, then checked: if another collector
 * took the lock over in between (we moved its fresh lock), it is put back.
 */
function takeOver(file: string): void {
  const before = readLockText(file);
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw fileError("replace", file, err);
  }
  if (readLockText(aside) !== before) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // someone holds it again: the next attempt sees them
    }
  }
  fs.rmSync(aside, { force: true });
}

function readLockText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (start time in ticks since boot); undefined off Linux. */
function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
