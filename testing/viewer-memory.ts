// Run with `node --expose-gc --import tsx testing/viewer-memory.ts DIR`: indexes
// two files of the same number of lines, one with lines eight times longer,
// and prints the memory each index holds after a garbage collection (JSON).
// The viewer's test checks that the longer lines cost nothing more.
import * as fs from "node:fs";
import * as path from "node:path";
import { LineIndex } from "../services/viewer/line-index.js";
import { rolloutLine } from "./viewer-fixtures.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const dir = process.argv[2]!;
const LINES = 20_000;

function write(file: string, padding: number): number {
  const fd = fs.openSync(file, "w");
  const text = "x".repeat(padding);
  for (let i = 0; i < LINES; i++) {
    fs.writeSync(fd, JSON.stringify(rolloutLine({ task: i >> 2, rep: i & 3, agent: "a", reward: i % 2, text })) + "\n");
  }
  fs.closeSync(fd);
  return fs.statSync(file).size;
}

const used = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const small = path.join(dir, "small.jsonl");
const big = path.join(dir, "big.jsonl");
const sizes = [write(small, 500), write(big, 8_000)];
const base = used();
const a = new LineIndex(small, "rollouts");
await a.refresh();
const afterSmall = used();
const b = new LineIndex(big, "rollouts");
await b.refresh();
const afterBig = used();
console.log(JSON.stringify({ rows: [a.state().rows, b.state().rows], fileBytes: sizes, smallIndexBytes: afterSmall - base, bigIndexBytes: afterBig - afterSmall }));
