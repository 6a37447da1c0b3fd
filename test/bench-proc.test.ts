// The /proc helpers the benchmarks measure with (bench/proc.ts): a process
// tree, summed figures, the peak reset, connection detection, the median.
import { spawn } from "node:child_process";
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { connectedTo, groupStats, median, processStats, processTree, resetPeak } from "../bench/proc.js";

describe("bench/proc.ts", () => {
  it("finds a process's children and sums their figures", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      await new Promise((r) => child.once("spawn", r));
      const tree = processTree(process.pid);
      expect(tree[0]).toBe(process.pid);
      expect(tree).toContain(child.pid);
      const own = processStats(process.pid);
      const both = groupStats([process.pid, child.pid!])!;
      expect(both.cpuMs).toBeGreaterThanOrEqual(own.cpuMs);
      expect(both.peakRssMb).toBeGreaterThan(own.peakRssMb);
      // A process gone counts nothing; none left is undefined.
      expect(groupStats([2 ** 22 + 12345])).toBeUndefined();
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("resets the peak memory to the current size, where allowed", async () => {
    // A child that touched 200 MB and gave it back: its peak stays until reset.
    const code = "let b = Buffer.alloc(200 * 2 ** 20, 1); b = null; gc(); process.stdout.write('ok'); setTimeout(() => {}, 20000)";
    const child = spawn(process.execPath, ["--expose-gc", "-e", code], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      await new Promise((r) => child.stdout!.once("data", r));
      const before = processStats(child.pid!).peakRssMb;
      expect(before).toBeGreaterThan(200);
      if (resetPeak(child.pid!)) expect(processStats(child.pid!).peakRssMb).toBeLessThan(before - 100);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("sees a client connect to a port", async () => {
    const server = net.createServer((s) => s.on("error", () => {}));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(connectedTo(port)).toBe(false);
      const socket = net.connect(port, "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      expect(connectedTo(port)).toBe(true);
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it("takes medians, ignoring NaN", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});
