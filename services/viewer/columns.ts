// The summaries of one file's lines, column by column in typed arrays (a
// few dozen bytes a line, whatever the line's size), and the string table
// their names point into. The page gets them as JSON columns and does its
// filtering, grouping and counting itself.
import type { LineSummary } from "./summary.js";

type Typed = Float64Array | Int32Array | Uint32Array;
type TypedCtor = Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;

/** A typed array that grows by doubling. */
export class Column {
  private data: Typed;
  length = 0;

  constructor(private readonly Ctor: TypedCtor) {
    this.data = new Ctor(1024);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new this.Ctor(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  /** Values from `from` on, as JSON numbers (NaN becomes null). */
  slice(from: number): (number | null)[] {
    return Array.from(this.data.subarray(from, this.length), (v) => (Number.isNaN(v) ? null : v));
  }
}

/** Strings (agents, codes, tool sets, finish reasons) -> small ids; id 0 is "". Shared by every file of a viewer. */
export class Strings {
  readonly table: string[] = [""];
  private readonly ids = new Map<string, number>([["", 0]]);

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.table.length;
      this.table.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
}

/**
 * Tasks of lines without `_ng_task_index`: one per distinct prompt, numbered
 * -1, -2, ... in the order first seen (negative, so they never meet real
 * indexes). Shared by the viewer's files, so two runs of one dataset match.
 */
export class PromptTasks {
  private readonly ids = new Map<string, number>();

  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = -(this.ids.size + 1)));
    return id;
  }
}

/** The column names the page reads (web/engine.js). */
export const COLUMN_NAMES = ["task", "rep", "agent", "reward", "code", "inTok", "outTok", "totTok", "lat", "turns", "tools", "attempts", "finish"] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

export interface SummaryJson {
  from: number;
  count: number;
  cols: Record<ColumnName, (number | null)[]>;
}

const nan = (v: number | null) => (v === null ? Number.NaN : v);

/** The summaries of one file, with where each line is (byte offset and length). */
export class SummaryColumns {
  readonly offset = new Column(Float64Array);
  readonly bytes = new Column(Uint32Array);
  private readonly cols: Record<ColumnName, Column> = {
    task: new Column(Int32Array),
    rep: new Column(Int32Array),
    agent: new Column(Uint32Array),
    reward: new Column(Float64Array),
    code: new Column(Uint32Array),
    inTok: new Column(Float64Array),
    outTok: new Column(Float64Array),
    totTok: new Column(Float64Array),
    lat: new Column(Float64Array),
    turns: new Column(Uint32Array),
    tools: new Column(Uint32Array),
    attempts: new Column(Uint32Array),
    finish: new Column(Uint32Array),
  };

  constructor(
    private readonly strings: Strings,
    private readonly prompts: PromptTasks,
  ) {}

  get length(): number {
    return this.offset.length;
  }

  push(s: LineSummary, offset: number, bytes: number): void {
    const c = this.cols;
    this.offset.push(offset);
    this.bytes.push(bytes);
    c.task.push(s.task ?? (s.promptKey ? this.prompts.id(s.promptKey) : -1));
    c.rep.push(s.repeat ?? -1);
    c.agent.push(this.strings.id(s.agent));
    c.reward.push(nan(s.reward));
    c.code.push(this.strings.id(s.code));
    c.inTok.push(nan(s.inputTokens));
    c.outTok.push(nan(s.outputTokens));
    c.totTok.push(nan(s.totalTokens));
    c.lat.push(nan(s.latencyMs));
    c.turns.push(s.turns);
    c.tools.push(this.strings.id(s.tools.join("\n")));
    c.attempts.push(s.attempts);
    c.finish.push(this.strings.id(s.finish));
  }

  /** One value of one line (tests, search). */
  value(name: ColumnName, i: number): number {
    return this.cols[name].get(i);
  }

  toJson(from = 0): SummaryJson {
    const start = Math.min(Math.max(0, from), this.length);
    const cols = Object.fromEntries(COLUMN_NAMES.map((n) => [n, this.cols[n].slice(start)])) as SummaryJson["cols"];
    return { from: start, count: this.length - start, cols };
  }
}
