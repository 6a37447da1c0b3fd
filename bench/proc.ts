// Per-process figures from /proc (Linux): CPU time used and peak memory.
import * as fs from "node:fs";

export interface ProcessStats {
  /** User + system CPU time so far. */
  cpuMs: number;
  /** Peak resident memory (VmHWM). */
  peakRssMb: number;
}

const TICKS_PER_S = 100;

export function processStats(pid: number): ProcessStats {
  // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  const hwm = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
  return { cpuMs, peakRssMb: hwm ? Number(hwm[1]) / 1024 : NaN };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
