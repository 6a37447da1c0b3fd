// An append-only JSONL file that survives `kill -9`: each line is one write
// call, and on reopen a torn last line (a write cut short) is cut off, so
// every line that remains parses.
import { UsageError } from "../mesh/errors.js";
import * as fs from "node:fs";
import type { JsonObject } from "@bufbuild/protobuf";

export class JsonlFile {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  /** The complete lines already in the file, after cutting a torn tail. */
  readRepaired(): JsonObject[] {
    if (!fs.existsSync(this.path)) return [];
    const text = fs.readFileSync(this.path, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    if (end < text.length) fs.truncateSync(this.path, Buffer.byteLength(text.slice(0, end)));
    return text
      .slice(0, end)
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line, i) => {
        try {
          return JSON.parse(line) as JsonObject;
        } catch {
          throw new UsageError(`${this.path}:${i + 1}: not a JSON line; the file was not written by gym collect`);
        }
      });
  }

  append(obj: JsonObject): void {
    this.fd ??= fs.openSync(this.path, "a");
    fs.writeSync(this.fd, JSON.stringify(obj) + "\n");
  }

  /** Replaces the whole file atomically (write a copy, then rename over). */
  rewrite(lines: JsonObject[]): void {
    this.close();
    const tmp = `${this.path}.tmp`;
    fs.writeFileSync(tmp, lines.map((l) => JSON.stringify(l) + "\n").join(""));
    fs.renameSync(tmp, this.path);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
