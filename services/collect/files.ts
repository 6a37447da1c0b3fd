// Writing the collector's files: every byte or a one-line error that names
// the file (a full disk, no permission), and whole files replaced atomically
// (a copy, fsync, rename), so a crash or a full disk never leaves one half
// written.
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "../mesh/errors.js";

const WHY: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "it is a directory",
  EEXIST: "it exists",
  EIO: "input/output error",
  EMFILE: "too many open files",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many symbolic links",
};

/** A failed file operation as a one-line UsageError ("cannot write FILE: no space left on the device (ENOSPC)"); other errors as they are. */
export function fileError(verb: string, file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof UsageError || code === undefined || !(code in WHY)) return err as Error;
  return new UsageError(`cannot ${verb} ${file}: ${WHY[code]} (${code})`);
}

/** Writes all of `data` at the descriptor's position, looping over short writes. */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  for (let off = 0; off < buf.length; ) {
    const n = fs.writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw Object.assign(new Error("short write"), { code: "EIO" });
    off += n;
  }
}

/** Replaces `file` with `text` atomically: a copy beside it, fsync, rename over, fsync of the folder. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      writeAll(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw fileError("write", file, err);
  }
  syncDir(path.dirname(file));
}

/** Makes a rename in `dir` durable (best effort: some file systems refuse to fsync a folder). */
export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not supported here
  }
}

/**
 * The lines of a file (split at "\n" only, as `text.split("\n")` does, with
 * the last line even without its newline), read as a stream: memory holds
 * one line and one chunk, whatever the file's size.
 */
export async function* readLines(file: string): AsyncGenerator<string> {
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  let parts: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
        parts.push(chunk.subarray(from, nl));
        // UTF-8 never has 0x0a inside a character: splitting the bytes is safe.
        yield Buffer.concat(parts).toString("utf8");
        parts = [];
        from = nl + 1;
      }
      if (from < chunk.length) parts.push(chunk.subarray(from));
    }
    yield Buffer.concat(parts).toString("utf8");
  } finally {
    stream.destroy();
  }
}
