// Per-session state of one environment, keyed by a random id so concurrent
// sessions never see each other's. A session unused for the idle timeout is
// dropped: lazily when it is next named, and by a background sweep so
// abandoned sessions do not pile up.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Task } from "../../gen/gymmesh/v1/task_pb.js";

export interface Session {
  task: Task;
  state: unknown;
  lastUsed: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly envName: string,
    private readonly idleTimeoutMs: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  open(task: Task, state: unknown): string {
    const id = randomUUID();
    this.sessions.set(id, { task, state, lastUsed: this.now() });
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
      this.sessions.delete(id);
      throw new ConnectError(`${this.envName}: session "${id}" expired after ${this.idleTimeoutMs / 1000} s unused: start the rollout again`, Code.Aborted);
    }
    session.lastUsed = now;
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
    if (this.sessions.size === 0) this.stopSweeper();
  }

  /** Drops every expired session; returns how many. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [id, session] of this.sessions) {
      if (this.expired(session, now)) {
        this.sessions.delete(id);
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
