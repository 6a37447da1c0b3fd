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

/** The parent pid of a process, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** A process and all its living descendants (children, their children, ...). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(Number(entry));
    if (ppid === undefined) continue;
    const list = children.get(ppid);
    if (list) list.push(Number(entry));
    else children.set(ppid, [Number(entry)]);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * The summed figures of some processes (a server and its children): CPU time
 * and peak memory (the sum of their VmHWM). Processes gone meanwhile count
 * nothing; undefined when none is left.
 */
export function groupStats(pids: number[]): ProcessStats | undefined {
  let cpuMs = 0;
  let peakRssMb = 0;
  let alive = 0;
  for (const pid of pids) {
    try {
      const s = processStats(pid);
      cpuMs += s.cpuMs;
      peakRssMb += s.peakRssMb;
      alive++;
    } catch {
      // gone
    }
  }
  return alive > 0 ? { cpuMs, peakRssMb } : undefined;
}

/**
 * Resets the peak memory (VmHWM) of a process to its current resident size
 * (`echo 5 > /proc/PID/clear_refs`, Linux >= 4.0), so that the next peak is
 * that of what follows. False when not allowed (then VmHWM is the peak since
 * the process started).
 */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * True once some TCP connection to 127.0.0.1:PORT is established (IPv4 and
 * IPv6 tables of this network namespace): a client has connected.
 */
export function connectedTo(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      // sl local_address rem_address st ...: the remote end is PORT and the state ESTABLISHED (01).
      const f = line.trim().split(/\s+/);
      if (f[3] === "01" && f[2]?.endsWith(`:${hex}`)) return true;
    }
  }
  return false;
}
