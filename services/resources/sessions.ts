// Per-session state of one environment, keyed by a random id so concurrent
// sessions never see each other's. A session unused for the idle timeout is
// dropped: lazily when it is next named, and by a background sweep so
// abandoned sessions do not pile up. How many may be open, and how many bytes
// their tasks may hold, is bounded: past either, a new one is RESOURCE_EXHAUSTED.
import { randomUUID } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskSchema, type Task } from "../../gen/gymmesh/v1/task_pb.js";

export interface Session {
  task: Task;
  state: unknown;
  lastUsed: number;
  /** Its task's size (serialized), what it counts against the byte cap. */
  bytes: number;
}

export interface SessionCaps {
  /** Sessions open at once at most (none when absent). */
  maxSessions?: number;
  /** Bytes of their tasks at most (serialized size; none when absent). */
  maxBytes?: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private sweeper: NodeJS.Timeout | undefined;
  private bytes = 0;

  constructor(
    private readonly envName: string,
    private readonly idleTimeoutMs: number,
    private readonly now: () => number,
    private readonly caps: SessionCaps = {},
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Checks that a session for `task` fits under the caps and returns its size
   * (for open()), so that a caller can refuse before building its state.
   */
  admit(task: Task): number {
    const bytes = toBinary(TaskSchema, task).byteLength;
    this.checkRoom(bytes);
    return bytes;
  }

  /** Opens a session; RESOURCE_EXHAUSTED past the caps. `bytes`: the task's size, when admit() gave it. */
  open(task: Task, state: unknown, bytes = toBinary(TaskSchema, task).byteLength): string {
    this.checkRoom(bytes);
    const id = randomUUID();
    this.sessions.set(id, { task, state, lastUsed: this.now(), bytes });
    this.bytes += bytes;
    this.startSweeper();
    return id;
  }

  /**
   * The live session, marked as used. ABORTED when unknown, closed or expired
   * (or its server restarted): the rollout cannot go on, and starts again
   * with a new session. (Not NOT_FOUND, which agents feed back to the model as
   * a tool's error.)
   */
  get(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) {
      throw new ConnectError(
        `${this.envName}: no session "${id}" (closed, or its server restarted): start the rollout again with a new session`,
        Code.Aborted,
      );
    }
    const now = this.now();
    if (this.expired(session, now)) {
      this.drop(id, session);
      throw new ConnectError(`${this.envName}: session "${id}" expired after ${this.idleTimeoutMs / 1000} s unused: start the rollout again`, Code.Aborted);
    }
    session.lastUsed = now;
    return session;
  }

  /** Expired sessions are dropped first; then RESOURCE_EXHAUSTED if one more of `bytes` does not fit. */
  private checkRoom(bytes: number): void {
    const { maxSessions = Infinity, maxBytes = Infinity } = this.caps;
    if (this.sessions.size >= maxSessions || this.bytes + bytes > maxBytes) this.sweep();
    if (this.sessions.size >= maxSessions) {
      throw new ConnectError(`${this.envName}: ${this.sessions.size} sessions open, the most allowed (max_sessions): close finished ones`, Code.ResourceExhausted);
    }
    if (this.bytes + bytes > maxBytes) {
      throw new ConnectError(
        `${this.envName}: open sessions hold ${this.bytes} bytes of tasks; this one (${bytes} bytes) would pass max_session_bytes (${maxBytes})`,
        Code.ResourceExhausted,
      );
    }
  }

  close(id: string): void {
    const session = this.sessions.get(id);
    if (session) this.drop(id, session);
    if (this.sessions.size === 0) this.stopSweeper();
  }

  private drop(id: string, session: Session): void {
    this.sessions.delete(id);
    this.bytes -= session.bytes;
  }

  /** Drops every expired session; returns how many. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [id, session] of this.sessions) {
      if (this.expired(session, now)) {
        this.drop(id, session);
        dropped++;
      }
    }
    if (this.sessions.size === 0) this.stopSweeper();
    return dropped;
  }

  private expired(session: Session, now: number): boolean {
    return this.idleTimeoutMs > 0 && now - session.lastUsed > this.idleTimeoutMs;
  }

  private startSweeper(): void {
    if (this.sweeper || this.idleTimeoutMs <= 0) return;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleTimeoutMs, 60_000));
    // The sweep never keeps the process alive by itself.
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
