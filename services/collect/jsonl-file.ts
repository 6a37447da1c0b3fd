// An append-only JSONL file that survives `kill -9`: each line is one write
// (looped until complete), and on reopen a torn last line (a write cut short)
// is cut off, so every line that remains parses. A write that fails (a full
// disk) is taken back, so the file never keeps half a line.
import { UsageError } from "../mesh/errors.js";
import * as fs from "node:fs";
import type { JsonObject } from "@bufbuild/protobuf";
import { fileError, readLines, writeAll, writeFileAtomic } from "./files.js";

export class JsonlFile {
  private fd: number | undefined;
  private size = 0;

  constructor(readonly path: string) {}

  /** The complete lines already in the file, after cutting a torn tail. */
  readRepaired(): JsonObject[] {
    this.repairTail();
    if (!fs.existsSync(this.path)) return [];
    return fs
      .readFileSync(this.path, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line, i) => this.parse(line, i + 1));
  }

  /** Calls `each` with every complete line (after cutting a torn tail), reading the file as a stream. */
  async scan(each: (line: JsonObject) => void): Promise<void> {
    this.repairTail();
    if (!fs.existsSync(this.path)) return;
    let n = 0;
    for await (const line of readLines(this.path)) {
      n++;
      if (line.length > 0) each(this.parse(line, n));
    }
  }

  /** Cuts a torn last line (no newline at its end), reading only the file's tail. */
  repairTail(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.path, "r+");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw fileError("open", this.path, err);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const chunk = Buffer.alloc(64 * 1024);
      for (let pos = size; pos > 0; ) {
        const start = Math.max(0, pos - chunk.length);
        const n = fs.readSync(fd, chunk, 0, pos - start, start);
        const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
        if (nl >= 0) {
          if (start + nl + 1 < size) fs.ftruncateSync(fd, start + nl + 1);
          return;
        }
        pos = start;
      }
      if (size > 0) fs.ftruncateSync(fd, 0); // one torn line and nothing else
    } finally {
      fs.closeSync(fd);
    }
  }

  append(obj: JsonObject): void {
    this.appendLine(JSON.stringify(obj));
  }

  /** Appends JSON text that is already one line (no newline in it). */
  appendLine(json: string): void {
    try {
      if (this.fd === undefined) {
        this.fd = fs.openSync(this.path, "a");
        this.size = fs.fstatSync(this.fd).size;
      }
      const bytes = Buffer.from(json + "\n");
      try {
        writeAll(this.fd, bytes);
      } catch (err) {
        // Take back what part of the line got written: the file stays whole lines.
        try {
          fs.ftruncateSync(this.fd, this.size);
        } catch {
          // the next run cuts the torn tail
        }
        throw err;
      }
      this.size += bytes.length;
    } catch (err) {
      throw fileError("write", this.path, err);
    }
  }

  /** Replaces the whole file atomically (write a copy, then rename over). */
  rewrite(lines: JsonObject[]): void {
    this.close();
    writeFileAtomic(this.path, lines.map((l) => JSON.stringify(l) + "\n").join(""));
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private parse(line: string, n: number): JsonObject {
    try {
      return JSON.parse(line) as JsonObject;
    } catch {
      throw new UsageError(`${this.path}:${n}: not a JSON line; the file was not written by gym collect`);
    }
  }
}
