// The line-offset index of one JSONL file: the file is read once, in chunks,
// recording where each line starts and its summary; a line itself is read
// again from disk when the page asks for it. `refresh()` reads only what was
// appended since, so a file being written is followed line by line.
//
// A last line with no newline is torn (a writer in the middle of it, or one
// that died): it is not indexed until its newline comes, unless it already
// is a whole JSON object (a file written without a final newline). A file
// that shrank or was replaced (collect --fresh, a rewritten failures file)
// is indexed again from the start, under a new generation number.
import * as fs from "node:fs";
import { PromptTasks, Strings, SummaryColumns } from "./columns.js";
import { summarizeLine, type SourceKind } from "./summary.js";

const CHUNK = 1 << 20;
const NL = 0x0a;

export interface IndexState {
  /** Lines indexed. */
  rows: number;
  /** Bumped when the file was replaced or cut: what the page holds of it is stale. */
  gen: number;
  /** The file's size at the last look (0 when it does not exist). */
  size: number;
  /** Bytes of a torn last line, not indexed yet. */
  tornBytes: number;
  exists: boolean;
}

export class LineIndex {
  columns: SummaryColumns;
  gen = 0;
  private scanned = 0;
  private tornBytes = 0;
  private size = 0;
  private ino: number | undefined;
  private exists = false;
  private running: Promise<number> | undefined;

  constructor(
    readonly file: string,
    readonly kind: SourceKind,
    private readonly strings = new Strings(),
    private readonly prompts = new PromptTasks(),
  ) {
    this.columns = new SummaryColumns(strings, prompts);
  }

  state(): IndexState {
    return { rows: this.columns.length, gen: this.gen, size: this.size, tornBytes: this.tornBytes, exists: this.exists };
  }

  /** Indexes what was appended since the last call; returns the lines added (one run at a time). */
  refresh(): Promise<number> {
    this.running ??= this.scan().finally(() => (this.running = undefined));
    return this.running;
  }

  /** The text of line `i` (as indexed under generation `gen`, when given), read from disk. */
  async readLine(i: number, gen = this.gen): Promise<string | undefined> {
    if (gen !== this.gen || !Number.isInteger(i) || i < 0 || i >= this.columns.length) return undefined;
    const offset = this.columns.offset.get(i);
    const length = this.columns.bytes.get(i);
    const handle = await fs.promises.open(this.file, "r");
    try {
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.toString("utf8", 0, got);
    } finally {
      await handle.close();
    }
  }

  /** Every indexed line in order, read as a stream (search, bundle): `each(text, i)`. */
  async eachLine(each: (text: string, i: number) => void | false, signal?: AbortSignal): Promise<void> {
    const n = this.columns.length;
    if (n === 0) return;
    const gen = this.gen;
    const end = this.columns.offset.get(n - 1) + this.columns.bytes.get(n - 1);
    const stream = fs.createReadStream(this.file, { start: this.columns.offset.get(0), end: Math.max(0, end - 1), highWaterMark: CHUNK });
    let i = 0;
    let carry: Buffer[] = []; // the start of a line that began in an earlier chunk
    let pos = this.columns.offset.get(0); // file position of the chunk's first byte
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (signal?.aborted || gen !== this.gen) return;
        const chunkEnd = pos + chunk.length;
        // Lines are cut by the index's offsets, not by newlines: skipped blank lines and a last line without newline need no care.
        while (i < n) {
          const start = this.columns.offset.get(i);
          const stop = start + this.columns.bytes.get(i);
          if (start >= chunkEnd) break;
          if (stop > chunkEnd) {
            carry.push(chunk.subarray(Math.max(0, start - pos)));
            break;
          }
          let text: string;
          if (carry.length > 0) {
            carry.push(chunk.subarray(0, stop - pos));
            text = Buffer.concat(carry).toString("utf8");
            carry = [];
          } else {
            text = chunk.toString("utf8", start - pos, stop - pos);
          }
          if (each(text, i++) === false) return;
        }
        pos = chunkEnd;
      }
    } finally {
      stream.destroy();
    }
  }

  private reset(): void {
    this.gen++;
    this.columns = new SummaryColumns(this.strings, this.prompts);
    this.scanned = 0;
    this.tornBytes = 0;
  }

  private async scan(): Promise<number> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      if (this.exists || this.columns.length > 0) this.reset();
      this.exists = false;
      this.size = 0;
      return 0;
    }
    // Replaced (a new inode) or cut shorter than what is indexed: start again.
    if ((this.ino !== undefined && stat.ino !== this.ino) || stat.size < this.scanned) this.reset();
    this.ino = stat.ino;
    this.exists = true;
    this.size = stat.size;
    if (stat.size === this.scanned + this.tornBytes) return 0;
    const before = this.columns.length;
    const handle = await fs.promises.open(this.file, "r");
    try {
      const buf = Buffer.alloc(CHUNK);
      let pos = this.scanned; // file position of buf[0]
      let lineStart = this.scanned;
      let partial: Buffer[] = []; // the start of a line that began in an earlier chunk
      while (pos < stat.size) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(CHUNK, stat.size - pos), pos);
        if (bytesRead === 0) break;
        let from = 0;
        for (let nl = buf.indexOf(NL, 0); nl !== -1 && nl < bytesRead; nl = buf.indexOf(NL, from)) {
          const text = partial.length ? Buffer.concat([...partial, buf.subarray(0, nl)]).toString("utf8") : buf.toString("utf8", from, nl);
          partial = [];
          this.addLine(text, lineStart, pos + nl - lineStart);
          from = nl + 1;
          lineStart = pos + from;
        }
        if (from < bytesRead) partial.push(Buffer.from(buf.subarray(from, bytesRead)));
        pos += bytesRead;
      }
      this.scanned = lineStart;
      this.tornBytes = pos - lineStart;
      // No newline at the end: a whole JSON object is a line; anything else waits for the rest.
      if (this.tornBytes > 0) {
        const text = Buffer.concat(partial).toString("utf8");
        if (isJsonObject(text)) {
          this.addLine(text, lineStart, this.tornBytes);
          this.scanned = pos;
          this.tornBytes = 0;
        }
      }
    } finally {
      await handle.close();
    }
    return this.columns.length - before;
  }

  private addLine(text: string, offset: number, bytes: number): void {
    if (text.trim() === "") return;
    this.columns.push(summarizeLine(text, this.kind), offset, bytes);
  }
}

function isJsonObject(text: string): boolean {
  if (!text.trimEnd().endsWith("}")) return false;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
