// The viewer without a browser: the line index (torn last line, appends,
// replaced files), the summaries, the page's engine (run in Node: groups,
// dead groups, failures that stand, pass@k as gym collect counts it), the
// JSON API with its live events, and the bundle.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../collect/aggregate.js";
import { failureLine, MATH, rolloutLine, TOOLS, writeFixtureRuns, type FixtureFiles } from "../../testing/viewer-fixtures.js";
import { EXAMPLE_DATA, ROOT, run } from "../../testing/helpers.js";
import { writeBundle } from "./bundle.js";
import { startViewer, type Viewer } from "./index.js";
import { LineIndex } from "./line-index.js";
import { summarizeLine, UNREADABLE } from "./summary.js";

const WEB = path.join(path.dirname(new URL(import.meta.url).pathname), "web");

/** The page's engine (a classic browser script), loaded into a fresh context as the page does. */
function loadEngine() {
  const ctx: { GymView?: { engine: Record<string, any> } } = {};
  vm.createContext(ctx);
  vm.runInContext(fs.readFileSync(path.join(WEB, "engine.js"), "utf8"), ctx);
  return ctx.GymView!.engine;
}
const E = loadEngine();

let dir: string;
let fx: FixtureFiles;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-view-"));
  fx = writeFixtureRuns(path.join(dir, "fx"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const jsonl = (lines: unknown[]) => lines.map((l) => JSON.stringify(l) + "\n").join("");
const texts = async (index: LineIndex) => {
  const out: string[] = [];
  await index.eachLine((t) => void out.push(t));
  return out;
};

describe("LineIndex", () => {
  it("indexes whole lines, leaves a torn last line until its newline comes, and reads lines back by offset", async () => {
    const file = path.join(dir, "torn.jsonl");
    const a = JSON.stringify(rolloutLine({ task: 0, rep: 0, agent: MATH, reward: 1 }));
    const b = JSON.stringify(rolloutLine({ task: 0, rep: 1, agent: MATH, reward: 0 }));
    fs.writeFileSync(file, `${a}\n\n${b.slice(0, 40)}`);
    const index = new LineIndex(file, "rollouts");
    expect(await index.refresh()).toBe(1);
    expect(index.state()).toMatchObject({ rows: 1, tornBytes: 40, exists: true });
    fs.appendFileSync(file, `${b.slice(40)}\n`);
    expect(await index.refresh()).toBe(1);
    expect(index.state()).toMatchObject({ rows: 2, tornBytes: 0 });
    expect(await index.readLine(0)).toBe(a);
    expect(await index.readLine(1)).toBe(b);
    expect(await index.readLine(2)).toBeUndefined();
    expect(await texts(index)).toEqual([a, b]);
    expect(index.columns.value("reward", 1)).toBe(0);
    expect(index.columns.value("rep", 1)).toBe(1);
  });

  it("takes a last line without newline that is a whole JSON object (a file written without a final newline)", async () => {
    const file = path.join(dir, "nonl.jsonl");
    fs.writeFileSync(file, `{"reward":1}\n{"reward":0.5}`);
    const index = new LineIndex(file, "rollouts");
    await index.refresh();
    expect(index.state()).toMatchObject({ rows: 2, tornBytes: 0 });
    expect(await texts(index)).toEqual(['{"reward":1}', '{"reward":0.5}']);
  });

  it("starts again, under a new generation, when the file is replaced or cut, and waits for a file not there yet", async () => {
    const file = path.join(dir, "later.jsonl");
    const index = new LineIndex(file, "failures");
    await index.refresh();
    expect(index.state()).toMatchObject({ rows: 0, exists: false });
    fs.writeFileSync(file, jsonl([failureLine(0, 0, MATH, "unavailable", "gone"), failureLine(1, 0, MATH, "unavailable", "gone")]));
    await index.refresh();
    expect(index.state()).toMatchObject({ rows: 2, exists: true });
    const gen = index.gen;
    // collect rewrites its failures file atomically (a new inode) when retries superseded records.
    fs.writeFileSync(`${file}.tmp`, jsonl([failureLine(1, 0, MATH, "unavailable", "gone")]));
    fs.renameSync(`${file}.tmp`, file);
    await index.refresh();
    expect(index.gen).toBe(gen + 1);
    expect(index.state().rows).toBe(1);
    expect(await index.readLine(0, gen)).toBeUndefined(); // a line of the old file is no more
    fs.truncateSync(file, 0);
    await index.refresh();
    expect(index.state()).toMatchObject({ rows: 0, gen: gen + 2 });
  });

  it("reads lines across chunk boundaries (lines bigger than a chunk)", async () => {
    const file = path.join(dir, "big-lines.jsonl");
    const lines = [0, 1, 2].map((i) => JSON.stringify(rolloutLine({ task: i, rep: 0, agent: MATH, reward: 1, text: "x".repeat(700_000 + i) })));
    fs.writeFileSync(file, lines.join("\n") + "\n");
    const index = new LineIndex(file, "rollouts");
    await index.refresh();
    expect(index.state().rows).toBe(3);
    expect(await texts(index)).toEqual(lines);
    expect(await index.readLine(2)).toBe(lines[2]);
  });
});

describe("the index's memory", () => {
  it("follows the number of lines, not their size: 20,000 lines of 175 MB cost what 20,000 lines of 25 MB do", async () => {
    const out = path.join(dir, "memory");
    fs.mkdirSync(out);
    const res = await run(process.execPath, ["--expose-gc", "--import", "tsx", path.join(ROOT, "testing/viewer-memory.ts"), out]);
    expect(res.code, res.stderr).toBe(0);
    const m = JSON.parse(res.stdout) as { rows: number[]; fileBytes: number[]; smallIndexBytes: number; bigIndexBytes: number };
    expect(m.rows).toEqual([20_000, 20_000]);
    expect(m.fileBytes[1]).toBeGreaterThan(150e6);
    // About 150 bytes a line either way (typed arrays); heap measures move by a few MB, a kept line would cost its size.
    expect(m.bigIndexBytes).toBeLessThan(12e6);
    expect(m.smallIndexBytes).toBeLessThan(12e6);
    expect(m.bigIndexBytes).toBeLessThan(m.fileBytes[1]! / 15);
    fs.rmSync(out, { recursive: true, force: true });
  }, 60_000);
});

describe("summarizeLine", () => {
  it("a rollout: ids, reward, tokens, latency, turns, tools, finish", () => {
    const line = rolloutLine({
      task: 3,
      rep: 2,
      agent: TOOLS,
      reward: 0.5,
      calls: [{ name: "get_weather", args: { city: "x" }, output: "cold" }],
      tokens: [10, 5],
      latencyMs: 70,
      incomplete: true,
    });
    delete line._ng_steps; // counted from the output: a tool turn, then the answer's
    expect(summarizeLine(JSON.stringify(line), "rollouts")).toMatchObject({
      task: 3,
      repeat: 2,
      agent: TOOLS,
      reward: 0.5,
      code: "",
      inputTokens: 10,
      outputTokens: 5,
      totalTokens: 15,
      latencyMs: 70,
      turns: 2,
      tools: ["get_weather"],
      finish: "incomplete:max_output_tokens",
    });
  });

  it("a failure has a code and no reward (never 0); a line that is no JSON object is unreadable", () => {
    const f = summarizeLine(JSON.stringify(failureLine(4, undefined, MATH, "invalid_argument", "bad row")), "failures");
    expect(f).toMatchObject({ task: 4, repeat: undefined, reward: null, code: "invalid_argument" });
    expect(summarizeLine("{not json", "rollouts")).toMatchObject({ reward: null, code: UNREADABLE });
    expect(summarizeLine("[1,2]", "rollouts").code).toBe(UNREADABLE);
  });

  it("lines without _ng_task_index group by their prompt", () => {
    const a = rolloutLine({ task: 0, rep: 0, agent: MATH, reward: 1 });
    const b = rolloutLine({ task: 0, rep: 1, agent: MATH, reward: 0 });
    const c = rolloutLine({ task: 1, rep: 0, agent: MATH, reward: 0 });
    for (const l of [a, b, c]) delete l._ng_task_index;
    const [sa, sb, sc] = [a, b, c].map((l) => summarizeLine(JSON.stringify(l), "rollouts"));
    expect(sa!.task).toBeUndefined();
    expect(sa!.promptKey).toBe(sb!.promptKey);
    expect(sa!.promptKey).not.toBe(sc!.promptKey);
  });
});

/** The fixture run as the page builds it: summaries from the server's index, through the engine. */
async function fixtureModel(file: string) {
  const viewer = await startViewer({ files: [file], port: 0 });
  try {
    const run = viewer.runs[0]!;
    const strings = (await (await fetch(`${viewer.url}api/meta`)).json()).strings as string[];
    const rows = (src: "r" | "f") => E.makeRows(0, src, run.sources[src].columns.toJson(0), strings);
    return E.buildRun(rows("r"), rows("f"));
  } finally {
    await viewer.close();
  }
}

describe("the page's engine", () => {
  it("groups repeats per agent and task with badges; all-equal rewards are dead groups", async () => {
    const m = await fixtureModel(fx.rollouts);
    const g = (agent: string, task: number) => m.groups.find((x: any) => x.agent === agent && x.task === task);
    expect(g(MATH, 0)).toMatchObject({ badge: "all-pass", dead: true, n: 4, mean: 1, std: 0 });
    expect(g(MATH, 1)).toMatchObject({ badge: "all-fail", dead: true, n: 4, mean: 0 });
    expect(g(MATH, 2)).toMatchObject({ badge: "mixed", dead: false, n: 4, mean: 0.5 });
    // The failed repeat is a failure in the group, not a reward of 0.
    expect(g(MATH, 3)).toMatchObject({ badge: "mixed", n: 3, failures: 1, mean: 0.5 });
    expect(g(MATH, 3).rows.map((r: any) => (r.failed ? `x:${r.code}` : r.reward))).toEqual([1, 0.5, 0, "x:unavailable"]);
    expect(g(MATH, 4)).toMatchObject({ badge: "failed", n: 0, failures: 1, mean: null });
    expect(g(TOOLS, 0)).toMatchObject({ badge: "mixed", n: 2 });
  });

  it("counts the failures that stand: a failure whose retry is in the rollouts is gone", async () => {
    const m = await fixtureModel(fx.rollouts);
    const failed = m.rows.filter((r: any) => r.failed);
    expect(failed.map((r: any) => [r.task, r.rep, r.code])).toEqual([
      [3, 3, "unavailable"],
      [4, -1, "invalid_argument"],
    ]);
    expect(m.superseded).toBe(1);
    const math = m.stats.find((s: any) => s.agent === MATH);
    expect(math).toMatchObject({ rollouts: 15, failures: 2, tasks: 5, dead: 2, allPass: 1, allFail: 1, mixed: 2, k: 4 });
  });

  it("pass@k and mean reward are gym collect's (collect/aggregate.ts) on the same lines", async () => {
    const m = await fixtureModel(fx.rollouts);
    const text = fs.readFileSync(fx.rollouts, "utf8");
    const lines = text.split("\n").slice(0, -1).map((l) => JSON.parse(l) as JsonObject); // the torn last line is not a rollout
    const failures = fs.readFileSync(fx.failures, "utf8").trim().split("\n").map((l) => JSON.parse(l) as JsonObject);
    for (const agg of aggregate(lines, failures)) {
      const s = m.stats.find((x: any) => x.agent === agg.agent_ref.name);
      expect(s.rollouts).toBe(agg.num_rollouts);
      expect(s.meanReward).toBeCloseTo(agg.agent_metrics["mean/reward"]!, 10);
      expect(s.pass1).toBeCloseTo(agg.agent_metrics["pass@1/accuracy"]!, 10);
      expect(s.passK).toBeCloseTo(agg.agent_metrics[`pass@${s.k}/accuracy`]!, 10);
    }
    expect(E.passAtK(4, 1, 2)).toBeCloseTo(0.5);
  });

  it("filters rows (status, reward, tool, turns, search) and groups (dead, badge); sorts with missing values last", async () => {
    const m = await fixtureModel(fx.rollouts);
    const count = (f: Record<string, string>, matches: Set<string> | null = null) => E.filterRows(m.rows, f, matches).length;
    expect(count({})).toBe(19);
    expect(count({ status: "failed" })).toBe(2);
    expect(count({ status: "pass" })).toBe(8);
    expect(count({ rmin: "0.1", rmax: "0.9" })).toBe(1);
    expect(count({ tool: "get_weather" })).toBe(1);
    expect(count({ tool: "-" })).toBe(18);
    expect(count({ tmin: "2" })).toBe(1);
    expect(count({ dead: "only" })).toBe(8);
    expect(count({ dead: "hide", badge: "mixed" })).toBe(10);
    expect(count({}, new Set(["0.r.0", "0.f.0"]))).toBe(2);
    expect(E.filterGroups(m.groups, { dead: "only" }, null).map((g: any) => g.task)).toEqual([0, 1]);
    const byReward = E.sortRows(m.rows, "reward", true);
    expect(byReward[0].reward).toBe(1);
    expect(byReward.slice(-2).every((r: any) => r.failed)).toBe(true);
    const byVariance = E.sortGroups(m.groups, "variance", true);
    expect(byVariance[0]).toMatchObject({ agent: TOOLS });
  });

  it("compares two runs per agent and task", async () => {
    const [a, b] = await Promise.all([fixtureModel(fx.rollouts), fixtureModel(fx.b)]);
    const c = E.compareRuns(a, b);
    const of = (task: number) => c.find((x: any) => x.task === task && x.agent === MATH);
    expect(of(1)).toMatchObject({ a: 0, b: 0.5, delta: 0.5 });
    expect(of(2)).toMatchObject({ a: 0.5, b: 0, delta: -0.5 });
    expect(of(3)).toMatchObject({ a: 0.5, b: 0.75, fa: 1, delta: 0.25 });
    expect(c.find((x: any) => x.agent === TOOLS)).toMatchObject({ nb: 0, delta: null });
    expect(E.filterCompare(c, "down").map((x: any) => x.task)).toEqual([2]);
  });
});

describe("the server", () => {
  let viewer: Viewer;
  let live: string;
  beforeAll(async () => {
    live = path.join(dir, "live.jsonl");
    fs.writeFileSync(live, jsonl([rolloutLine({ task: 0, rep: 0, agent: MATH, reward: 1 })]));
    viewer = await startViewer({ files: [live, fx.rollouts], port: 0, pollMs: 50 });
  });
  afterAll(() => viewer.close());

  const get = (p: string, headers: Record<string, string> = {}) => fetch(`${viewer.url}${p}`, { headers });

  it("serves the page, its scripts and the vendored libraries, with a strict CSP", async () => {
    const page = await get("");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain("assets/app.js");
    for (const p of ["assets/app.js", "assets/style.css", "vendor/marked.js", "vendor/purify.js"]) expect((await get(p)).status, p).toBe(200);
    expect((await get("assets/../index.ts")).status).toBe(404);
    expect((await get("assets/nope.js")).status).toBe(404);
  });

  it("answers only requests that name 127.0.0.1 or localhost (no DNS rebinding)", async () => {
    const http = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(viewer.url);
      http.get({ host: url.hostname, port: url.port, path: "/api/meta", headers: { host: `evil.example:${url.port}` } }, (res) => resolve(res.statusCode ?? 0)).on("error", reject);
    });
    expect(status).toBe(403);
  });

  it("meta, summaries, one line, search (a bad regex is a 400)", async () => {
    const meta = await (await get("api/meta")).json();
    expect(meta.runs.map((r: any) => [r.name, r.r.rows, r.f.rows])).toEqual([
      ["live.jsonl", 1, 0],
      ["rollouts.jsonl", 17, 3],
    ]);
    expect(meta.runs[1].r.tornBytes).toBe(80);
    const sum = await (await get("api/summaries?run=1&src=f&from=1&gen=0")).json();
    expect(sum).toMatchObject({ from: 1, count: 2 });
    expect(sum.cols.reward).toEqual([null, null]);
    expect(sum.strings[sum.cols.code[0]]).toBe("invalid_argument");
    const line = await (await get("api/line?run=1&src=r&i=16&gen=0")).json();
    expect(line).toMatchObject({ _ng_task_index: 0, _ng_rollout_index: 1, agent_ref: { name: TOOLS } });
    expect((await get("api/line?run=1&src=r&i=99&gen=0")).status).toBe(404);
    expect((await get("api/line?run=1&src=r&i=0&gen=7")).status).toBe(409);
    const found = await (await get(`api/search?run=1&q=${encodeURIComponent("paris|went AWAY")}`)).json();
    expect(found).toMatchObject({ r: [15], f: [0], truncated: false });
    const bad = await get(`api/search?run=1&q=${encodeURIComponent("(")}`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/bad regex/);
  });

  it("live: appended lines reach the page as server-sent events, with a rate", async () => {
    const res = await get("api/events");
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const events: any[] = [];
    let buf = "";
    const until = async (ok: (e: any) => boolean) => {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        if (events.some(ok)) return events.find(ok);
        const { value, done } = await Promise.race([reader.read(), new Promise<{ value: undefined; done: true }>((r) => setTimeout(() => r({ value: undefined, done: true }), 1000))]);
        if (done && !value) continue;
        buf += new TextDecoder().decode(value);
        for (let at = buf.indexOf("\n\n"); at >= 0; at = buf.indexOf("\n\n")) {
          const data = buf.slice(0, at).split("\n").find((l) => l.startsWith("data: "));
          buf = buf.slice(at + 2);
          if (data) events.push(JSON.parse(data.slice(6)));
        }
      }
      throw new Error(`no such event in 5 s: ${JSON.stringify(events.at(-1))}`);
    };
    await until((e) => e.runs[0].r.rows === 1);
    fs.appendFileSync(live, jsonl([1, 2, 3].map((rep) => rolloutLine({ task: 0, rep, agent: MATH, reward: 0 }))));
    const e = await until((e) => e.runs[0].r.rows === 4);
    expect(e.runs[0].rate).toBeGreaterThan(0);
    const sum = await (await get("api/summaries?run=0&src=r&from=1&gen=0")).json();
    expect(sum).toMatchObject({ from: 1, count: 3 });
    await reader.cancel();
  });
});

describe("the bundle", () => {
  it("writes a static site: the page, its scripts, the data as scripts; refuses a folder that is not one", async () => {
    const out = path.join(dir, "bundle");
    const b = await writeBundle([fx.rollouts, fx.b], out);
    expect(b.lines).toBe(17 + 3 + 16);
    const html = fs.readFileSync(path.join(out, "index.html"), "utf8");
    expect(html).toContain('<script src="data/meta.js"></script>');
    for (const f of ["assets/app.js", "assets/engine.js", "vendor/marked.js", "vendor/purify.js", "data/lines-0-r-0.js", "data/lines-0-f-0.js", "data/lines-1-r-0.js"]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    // The data scripts run as the page runs them.
    const ctx: any = {};
    vm.createContext(ctx);
    vm.runInContext(fs.readFileSync(path.join(out, "data/meta.js"), "utf8"), ctx);
    const got: any[] = [];
    ctx.GymViewBundle.chunk = (key: string, n: number, lines: string[]) => got.push([key, n, lines.length, JSON.parse(lines[0]!)._ng_task_index]);
    vm.runInContext(fs.readFileSync(path.join(out, "data/lines-0-f-0.js"), "utf8"), ctx);
    expect(got).toEqual([["0.f", 0, 3, 3]]);
    expect(ctx.GymViewBundle.meta).toMatchObject({ live: false });
    expect(ctx.GymViewBundle.summaries["0.r"].count).toBe(17);
    // Again into the same folder: replaced. Into a folder of other files: refused.
    await writeBundle([fx.rollouts], out);
    expect(fs.existsSync(path.join(out, "data/lines-1-r-0.js"))).toBe(false);
    await expect(writeBundle([fx.rollouts], path.dirname(fx.rollouts))).rejects.toThrow(/not empty/);
  });
});

describe("the page's scripts", () => {
  it("type-check (plain JavaScript with JSDoc: web/tsconfig.json)", async () => {
    const tsc = path.join(WEB, "..", "..", "..", "node_modules", "typescript", "bin", "tsc");
    const out = await new Promise<string>((resolve) =>
      execFile(process.execPath, [tsc, "-p", path.join(WEB, "tsconfig.json")], { timeout: 60_000 }, (err, stdout, stderr) => resolve(err ? `${stdout}${stderr}` || String(err) : "")),
    );
    expect(out).toBe("");
  }, 60_000);
});

describe("gym view and gym collect --view (the command)", () => {
  const GYM = path.join(ROOT, "bin/gym.js");

  it("writes a bundle; a missing file or a bad port is a one-line error (exit 2)", async () => {
    const out = path.join(dir, "cli-bundle");
    const ok = await run(process.execPath, [GYM, "view", fx.rollouts, fx.b, "--bundle", out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^bundle: .*index\.html {2}\(36 lines, /);
    expect(fs.existsSync(path.join(out, "index.html"))).toBe(true);
    const missing = await run(process.execPath, [GYM, "view", path.join(dir, "nope.jsonl")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^gym: .*nope\.jsonl: no such file$/m);
    const port = await run(process.execPath, [GYM, "view", fx.rollouts, "--port", "70000"]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--port: want 0 to 65535/);
  }, 60_000);

  it("collect --view serves the viewer on the output while collecting, then stops it", async () => {
    const out = path.join(dir, "collect-view", "rollouts.jsonl");
    const res = await run(process.execPath, [GYM, "collect", "--agent", "example_single_tool_call_simple_agent", "--input", EXAMPLE_DATA, "--output", out, "--limit", "2", "--view"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(res.stdout).toMatch(/^2 rollouts, /m);
  }, 60_000);
});
