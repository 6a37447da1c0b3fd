// The collector's files, piece by piece: the output lock, streamed lines,
// whole-or-nothing writes.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readLines, writeFileAtomic } from "../services/collect/files.js";
import { JsonlFile } from "../services/collect/jsonl-file.js";
import { OutputLock, OutputLockedError } from "../services/collect/lock.js";
import { scanInput } from "../services/collect/run-record.js";
import { UsageError } from "../services/mesh/errors.js";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gym-files-"));

describe("OutputLock", () => {
  it("is exclusive, names its holder, and goes on release", () => {
    const file = path.join(tmp(), "r.lock");
    const lock = OutputLock.acquire(file, "r.jsonl");
    const holder = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(holder).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    expect(() => OutputLock.acquire(file, "r.jsonl")).toThrow(OutputLockedError);
    expect(() => OutputLock.acquire(file, "r.jsonl")).toThrow(new RegExp(`^r\\.jsonl is being written by pid ${process.pid} \\(since ${holder.since.replace(/\./g, "\\.")}\\); wait for it or stop it$`));
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
    OutputLock.acquire(file, "r.jsonl").release();
  });

  it("takes over a lock whose pid now belongs to another process (its start time differs)", () => {
    const file = path.join(tmp(), "r.lock");
    // pid 1 runs, but it is not the process that took this lock.
    fs.writeFileSync(file, JSON.stringify({ pid: 1, hostname: os.hostname(), since: "2020-01-01T00:00:00.000Z", proc_start: "-1" }));
    const notes: string[] = [];
    const lock = OutputLock.acquire(file, "r.jsonl", (m) => notes.push(m));
    expect(notes).toEqual([`taking over ${file}: pid 1 (since 2020-01-01T00:00:00.000Z) is gone`]);
    expect(JSON.parse(fs.readFileSync(file, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("leaves a lock of another host alone, saying how to remove it", () => {
    const file = path.join(tmp(), "r.lock");
    fs.writeFileSync(file, JSON.stringify({ pid: 4242, hostname: "elsewhere", since: "2020-01-01T00:00:00.000Z" }));
    expect(() => OutputLock.acquire(file, "r.jsonl")).toThrow(`r.jsonl is being written by pid 4242 on elsewhere (since 2020-01-01T00:00:00.000Z); wait for it or stop it (or remove ${file} if it is gone)`);
  });

  it("does not remove a lock that is no longer its own", () => {
    const file = path.join(tmp(), "r.lock");
    const lock = OutputLock.acquire(file, "r.jsonl");
    fs.writeFileSync(file, "someone else's\n");
    lock.release();
    expect(fs.readFileSync(file, "utf8")).toBe("someone else's\n");
  });
});

describe("readLines and scanInput", () => {
  it("split at \\n only, as text.split does, across chunks and multi-byte characters", async () => {
    const file = path.join(tmp(), "in.jsonl");
    const long = "é€😀".repeat(100_000); // crosses the 256 KiB chunks, characters cut between them
    const text = `{"a": 1}\r\n\n  \n${JSON.stringify({ long })}\n{"b": "x\ry"}\nlast`;
    fs.writeFileSync(file, text);
    const lines: string[] = [];
    for await (const line of readLines(file)) lines.push(line);
    expect(lines).toEqual(text.split("\n"));
    const scan = await scanInput(file);
    expect(scan.rows).toBe(4); // blank lines do not count
    expect((await scanInput(file, 2)).rows).toBe(2);
    expect(scan.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("writes", () => {
  it("replace a file whole, leaving no temporary copy", () => {
    const file = path.join(tmp(), "m.json");
    writeFileAtomic(file, "one\n");
    writeFileAtomic(file, "two\n");
    expect(fs.readFileSync(file, "utf8")).toBe("two\n");
    expect(fs.readdirSync(path.dirname(file))).toEqual(["m.json"]);
  });

  it.skipIf(!fs.existsSync("/dev/full"))("a full disk is a one-line UsageError naming the file", () => {
    expect(() => new JsonlFile("/dev/full").append({ a: 1 })).toThrow(UsageError);
    expect(() => new JsonlFile("/dev/full").append({ a: 1 })).toThrow("cannot write /dev/full: no space left on the device (ENOSPC)");
    const dir = tmp();
    fs.symlinkSync("/dev/full", path.join(dir, "m.json.tmp"));
    expect(() => writeFileAtomic(path.join(dir, "m.json"), "x")).toThrow(`cannot write ${path.join(dir, "m.json")}: no space left on the device (ENOSPC)`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("cut a torn last line on reopen, reading only the tail", () => {
    const file = path.join(tmp(), "r.jsonl");
    fs.writeFileSync(file, '{"a":1}\n{"b":2}\n{"c":');
    expect(new JsonlFile(file).readRepaired()).toEqual([{ a: 1 }, { b: 2 }]);
    expect(fs.readFileSync(file, "utf8")).toBe('{"a":1}\n{"b":2}\n');
    fs.writeFileSync(file, "x".repeat(200_000));
    new JsonlFile(file).repairTail();
    expect(fs.statSync(file).size).toBe(0);
  });
});
