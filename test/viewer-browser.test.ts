// `gym view` in a real browser: headless Chromium (Debian's `chromium`
// package; playwright-core drives it, no browser download) on the viewer
// serving fixture runs. Keys, filters, search, the URL's state, the
// transcript and verifier panels, failures, task groups, two runs compared,
// live appends, a 100,000-rollout file, the bundle from file://, and a
// traced rollout's trace link and span waterfall.
// Screenshots go to $GYM_VIEW_SCREENSHOTS (default <tmp>/gym-view-screenshots).
//
// Without Chromium the tests are skipped, unless GYM_REQUIRE_CHROMIUM=1
// (CI), where a missing browser fails them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { FileSpanExporter } from "../services/app/file-span-exporter.js";
import { writeBundle } from "../services/viewer/bundle.js";
import { tracesPathOf } from "../services/viewer/run-files.js";
import { startViewer, type Viewer } from "../services/viewer/index.js";
import { failureLine, MATH, rolloutLine, writeBigFile, writeFixtureRuns, type FixtureFiles } from "../testing/viewer-fixtures.js";

const CHROMIUM = process.env.GYM_CHROMIUM ?? "/usr/bin/chromium";
const HAVE = fs.existsSync(CHROMIUM);
const REQUIRED = process.env.GYM_REQUIRE_CHROMIUM === "1";
const SHOTS = process.env.GYM_VIEW_SCREENSHOTS ?? path.join(os.tmpdir(), "gym-view-screenshots");
/** Every wait is bounded by this. */
const WAIT = { timeout: 10_000 };

describe.runIf(!HAVE && REQUIRED)("the browser tests", () => {
  it("need Chromium: apt-get install -y chromium (or GYM_CHROMIUM=path)", () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} not found`).toBe(true);
  });
});

describe.runIf(HAVE)("gym view in Chromium", () => {
  let browser: Browser;
  let dir: string;
  let fx: FixtureFiles;
  let viewer: Viewer;
  const viewers: Viewer[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gym-view-browser-"));
    fs.mkdirSync(SHOTS, { recursive: true });
    fx = writeFixtureRuns(path.join(dir, "fx"));
    viewer = await startViewer({ files: [fx.rollouts, fx.b], port: 0, pollMs: 100 });
    viewers.push(viewer);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"], timeout: 20_000 });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(viewers.map((v) => v.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A new page at `url`, ready (the first data drawn); page errors fail the test. */
  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(WAIT.timeout);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    (page as Page & { errors?: string[] }).errors = errors;
    await page.goto(url, WAIT);
    await page.waitForSelector("body[data-ready='1']", WAIT);
    return page;
  }
  const errorsOf = (page: Page) => (page as Page & { errors?: string[] }).errors ?? [];
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const text = (page: Page, testid: string) => page.getByTestId(testid).first().innerText();

  it("shows each agent's header; j/k and Enter open a rollout: transcript, verifier, raw JSON", async () => {
    const page = await open(viewer.url);
    const math = page.locator('[data-testid="run-0"] [data-agent="math_agent"]');
    expect(await math.getByTestId("stat-rollouts").innerText()).toBe("15");
    expect(await math.getByTestId("stat-failures").innerText()).toBe("2");
    expect(await math.getByTestId("stat-passk").innerText()).toBe("66.7% (k=4)");
    expect(await math.getByTestId("stat-dead").innerText()).toBe("2");
    expect(await text(page, "list-count")).toBe("19 of 19 rollouts");

    // The 16th row is tool_agent's first repeat: 15 steps down, Enter.
    for (let i = 0; i < 15; i++) await page.keyboard.press("j");
    await page.keyboard.press("k");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await expect.poll(() => text(page, "detail-head"), WAIT).toContain("tool_agent");
    expect(page.url()).toContain("sel=0.r.15");
    const transcript = page.getByTestId("transcript");
    // Each function_call with its function_call_output (by call_id); reasoning folded.
    expect(await transcript.getByTestId("item-function_call").count()).toBe(2);
    expect(await transcript.locator('[data-testid="item-function_call"] [data-testid="item-function_call_output"]').count()).toBe(2);
    expect(await transcript.getByTestId("item-function_call").first().innerText()).toContain("San Francisco");
    expect(await transcript.getByTestId("turn").count()).toBe(3);
    // Per model turn: its token counts (token ids on the items) and finish.
    expect(await transcript.getByTestId("turn").nth(1).locator(".turn-head").innerText()).toMatch(/model turn 2\s+31 prompt tokens\s+8 generated tokens\s+finish: completed/);
    expect(await transcript.locator('[data-testid="item-reasoning"]').getAttribute("open")).toBeNull();
    expect(await transcript.getByTestId("usage").innerText()).toContain("520");
    // Markdown with TeX; the HTML in the text is shown as text, never run.
    const md = transcript.locator('[data-role="assistant"] [data-testid="markdown"]');
    expect(await md.locator("h2").innerText()).toBe("Result");
    expect(await md.locator(".math").count()).toBe(3);
    expect(await md.locator(".frac").count()).toBe(2);
    expect(await md.locator("code").first().innerText()).toBe("code_point");
    expect(await md.locator("pre").innerText()).toContain("$not math$");
    expect(await md.locator("img, script").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot(page, "1-transcript");
    await page.keyboard.press("m");
    await page.getByTestId("raw-text").first().waitFor(WAIT);
    expect(await transcript.locator('[data-role="assistant"] [data-testid="raw-text"]').innerText()).toContain("\\boxed{\\frac{1}{2}}");
    await page.keyboard.press("m");

    await page.keyboard.press("2");
    expect(await text(page, "verifier-reward")).toBe("reward 1");
    await page.keyboard.press("3");
    expect(await text(page, "raw-json")).toContain('"_ng_rollout_index": 0');
    expect(page.url()).toContain("tab=raw");
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it("shows failures as failures (code and message), never as reward 0; expected vs extracted answers", async () => {
    const page = await open(viewer.url);
    await page.getByTestId("filter-status").selectOption("failed");
    expect(await text(page, "list-count")).toBe("2 of 19 rollouts");
    expect(await page.getByTestId("rollout-row").count()).toBe(2);
    expect(await page.locator('[data-testid="rollout-row"] .chip').first().innerText()).toBe("✕");
    await page.getByTestId("rollout-row").first().click();
    await page.getByTestId("tab-verifier").click();
    expect(await text(page, "failure-code")).toBe("unavailable");
    expect(await text(page, "failure-message")).toBe("the resources server went away");
    expect(await page.getByTestId("verifier-reward").count()).toBe(0);
    await shot(page, "2-failure");
    // A rollout with answers: expected beside extracted.
    await page.getByTestId("filter-status").selectOption("");
    await page.getByTestId("rollout-row").nth(4).click();
    expect(await text(page, "answer-compare")).toMatch(/expected_answer\s+2\s+extracted_answer\s+7/);
    expect(await text(page, "verifier-reward")).toBe("reward 0");
    await page.close();
  });

  it("task groups: a chip per repeat, mean and spread, badges, and the dead-group filter", async () => {
    const page = await open(`${viewer.url}#view=tasks`);
    expect(await page.getByTestId("group-row").count()).toBe(6);
    const task3 = page.locator('[data-testid="group-row"][data-task="3"]');
    expect(await task3.getByTestId("chip").count()).toBe(4);
    expect(await task3.locator(".chip.r-failed").count()).toBe(1);
    expect(await task3.getByTestId("badge").innerText()).toBe("mixed");
    expect(await task3.getByTestId("group-mean").innerText()).toBe("0.5");
    expect(await page.locator('[data-testid="group-row"][data-task="4"]').getByTestId("badge").innerText()).toBe("failed");
    await shot(page, "3-tasks");
    await page.getByTestId("filter-dead").selectOption("only");
    expect(await page.getByTestId("group-row").evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.task}:${(r as HTMLElement).dataset.badge}`))).toEqual([
      "0:all-pass",
      "1:all-fail",
    ]);
    await page.getByTestId("filter-dead").selectOption("hide");
    await page.getByTestId("filter-badge").selectOption("mixed");
    expect(await text(page, "list-count")).toBe("3 of 6 tasks");
    // A chip opens its rollout.
    await task3.locator(".chip.r-failed").click();
    await expect.poll(() => text(page, "detail-head"), WAIT).toContain("failed: unavailable");
    // Sorted by variance, highest first.
    await page.getByTestId("sort").selectOption("variance");
    await page.getByTestId("sort-dir").click();
    expect(await page.getByTestId("group-row").first().getAttribute("data-task")).toBe("0"); // tool_agent's task 0: std 0.707
    expect(await page.locator('[data-testid="group-row"]').first().innerText()).toContain("tool_agent");
    await page.close();
  });

  it("searches with a regex (/ focuses it), sorts, and keeps the view in the URL", async () => {
    const page = await open(viewer.url);
    await page.keyboard.press("/");
    await page.keyboard.type("par+is|went AWAY");
    await page.keyboard.press("Enter");
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("2 of 19 rollouts");
    await page.getByTestId("filter-tool").selectOption("get_weather");
    expect(await text(page, "list-count")).toBe("1 of 19 rollouts");
    const url = page.url();
    expect(url).toContain("q=par%2Bis%7Cwent+AWAY");
    expect(url).toContain("tool=get_weather");
    // The link opens the same view.
    const again = await open(url);
    await expect.poll(() => text(again, "list-count"), WAIT).toBe("1 of 19 rollouts");
    expect(await again.getByTestId("search").inputValue()).toBe("par+is|went AWAY");
    await again.close();
    // A bad regex says so.
    await page.getByTestId("search").fill("(");
    await page.getByTestId("search").press("Enter");
    await expect.poll(() => text(page, "search-error"), WAIT).toMatch(/bad regex/);
    await page.getByTestId("clear-filters").click();
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("19 of 19 rollouts");
    // Sorted by tokens, most first; by latency; by turns.
    await page.getByTestId("sort").selectOption("tokens");
    await page.getByTestId("sort-dir").click();
    expect(await page.getByTestId("rollout-row").first().getAttribute("data-key")).toBe("0.r.16");
    await page.getByTestId("sort").selectOption("turns");
    expect(await page.getByTestId("rollout-row").first().getAttribute("data-key")).toBe("0.r.15");
    // Reward and turns ranges.
    await page.getByTestId("filter-rmin").fill("0.2");
    await page.getByTestId("filter-rmax").fill("0.8");
    await page.getByTestId("filter-rmax").press("Enter");
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("1 of 19 rollouts");
    expect(page.url()).toContain("rmin=0.2");
    expect(errorsOf(page).filter((e) => !/400/.test(e))).toEqual([]);
    await page.close();
  });

  it("compares two runs: the change per task, and Enter goes to the task's repeats", async () => {
    const page = await open(`${viewer.url}#view=compare&sort=delta`);
    const rows = page.getByTestId("compare-row");
    expect(await rows.count()).toBe(6);
    const delta = (task: number) => page.locator(`[data-testid="compare-row"][data-task="${task}"]`).first().getByTestId("delta").innerText();
    expect(await delta(2)).toBe("−0.5");
    expect(await delta(1)).toBe("+0.5");
    expect(await rows.first().getAttribute("data-task")).toBe("2");
    await shot(page, "4-compare");
    await page.getByTestId("filter-change").selectOption("down");
    expect(await rows.count()).toBe(1);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url(), WAIT).toContain("view=tasks");
    expect(page.url()).toContain("task=2");
    expect(await page.getByTestId("group-row").count()).toBe(1);
    await expect.poll(() => text(page, "detail-head"), WAIT).toContain("task 2");
    // Run B's own list.
    await page.getByTestId("run-switch-1").click();
    expect(await page.locator('[data-testid="group-row"] .chip.r-fail').count()).toBe(4);
    await page.close();
  });

  it("live: lines appended to the file show up, with counters and a rate", async () => {
    const file = path.join(dir, "live", "rollouts.jsonl");
    fs.mkdirSync(path.dirname(file));
    const line = (rep: number, reward: number) => JSON.stringify(rolloutLine({ task: 0, rep, agent: MATH, reward })) + "\n";
    fs.writeFileSync(file, line(0, 1));
    const live = await startViewer({ files: [file], port: 0, pollMs: 100 });
    viewers.push(live);
    const page = await open(live.url);
    expect(await text(page, "count-rollouts-0")).toBe("1");
    expect(await text(page, "mode")).toBe("live");
    for (let rep = 1; rep <= 5; rep++) {
      fs.appendFileSync(file, line(rep, rep % 2));
      await new Promise((r) => setTimeout(r, 60));
    }
    await expect.poll(() => text(page, "count-rollouts-0"), WAIT).toBe("6");
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("6 of 6 rollouts");
    expect(Number(await text(page, "rate-0"))).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-agent="math_agent"]').getByTestId("stat-rollouts").innerText(), WAIT).toBe("6");
    // A failure lands in the failures file; a line being written (torn) waits for its end.
    fs.writeFileSync(path.join(path.dirname(file), "rollouts_failures.jsonl"), JSON.stringify(failureLine(1, 0, MATH, "unavailable", "gone")) + "\n");
    const torn = line(6, 1);
    fs.appendFileSync(file, torn.slice(0, 50));
    await expect.poll(() => text(page, "count-failures-0"), WAIT).toBe("1");
    await expect.poll(() => page.getByTestId("torn").count(), WAIT).toBe(1);
    await shot(page, "5-live");
    fs.appendFileSync(file, torn.slice(50));
    await expect.poll(() => text(page, "count-rollouts-0"), WAIT).toBe("7");
    await expect.poll(() => page.getByTestId("torn").count(), WAIT).toBe(0);
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("8 of 8 rollouts");
    // An open search takes in the lines that land.
    await page.getByTestId("search").fill('"_ng_rollout_index":(1|8),');
    await page.getByTestId("search").press("Enter");
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("1 of 8 rollouts");
    fs.appendFileSync(file, line(8, 1));
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("2 of 9 rollouts");
    // The rate falls back to 0 once nothing lands (the window is 10 s): not waited for here.
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it("opens a 100,000-rollout file in seconds: a virtualized list, groups, search", async () => {
    const file = path.join(dir, "big", "rollouts.jsonl");
    fs.mkdirSync(path.dirname(file));
    await writeBigFile(file, 100_000);
    const started = Date.now();
    const big = await startViewer({ files: [file], port: 0 });
    viewers.push(big);
    const page = await open(big.url);
    const openedMs = Date.now() - started;
    expect(openedMs).toBeLessThan(15_000);
    expect(await text(page, "list-count")).toBe("100,000 of 100,000 rollouts");
    // Only the rows in view are in the page.
    expect(await page.getByTestId("rollout-row").count()).toBeLessThan(80);
    await page.locator("#list").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => page.getByTestId("rollout-row").last().getAttribute("data-key"), WAIT).toBe("0.r.99999");
    await page.getByTestId("view-tasks").click();
    await page.getByTestId("filter-dead").selectOption("only");
    expect(await text(page, "list-count")).toBe("16,667 of 25,000 tasks");
    await page.keyboard.press("/");
    await page.keyboard.type('"_ng_task_index":2499[0-9],');
    await page.keyboard.press("Enter");
    await expect.poll(() => text(page, "list-count"), { timeout: 20_000 }).toBe("7 of 25,000 tasks");
    await shot(page, "6-big");
    console.log(`100,000 rollouts: page ready ${openedMs} ms after the server started`);
    await page.close();
  }, 60_000);

  it("links a traced rollout to its trace UI and draws a waterfall of its spans from the traces file", async () => {
    const traceDir = path.join(dir, "traced");
    const rollouts = path.join(traceDir, "run.jsonl");
    // One rollout's spans, written as OTEL_TRACES_EXPORTER=file writes them, where gym view looks by default.
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new FileSpanExporter(tracesPathOf(rollouts)))] });
    const tracer = provider.getTracer("test");
    const root = tracer.startSpan("gym.rollout", { attributes: { "gym.rollout.id": "0/0" } });
    const run = tracer.startSpan("gymmesh.v1.AgentService/Run", { kind: SpanKind.SERVER }, trace.setSpan(ROOT_CONTEXT, root));
    const inRun = trace.setSpan(ROOT_CONTEXT, run);
    tracer.startSpan("chat mock", { kind: SpanKind.CLIENT, attributes: { "gen_ai.usage.input_tokens": 12 } }, inRun).end();
    const tool = tracer.startSpan("execute_tool get_weather", {}, inRun);
    tool.setStatus({ code: SpanStatusCode.ERROR, message: "no such city" });
    tool.end();
    run.end();
    root.end();
    await provider.shutdown();
    const traceId = root.spanContext().traceId;
    const lines = [{ ...rolloutLine({ task: 0, rep: 0, agent: "a", reward: 1 }), _ng_trace_id: traceId }, rolloutLine({ task: 1, rep: 0, agent: "a", reward: 0 })];
    fs.writeFileSync(rollouts, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const traced = await startViewer({ files: [rollouts], port: 0, traceUrl: "http://jaeger.example:16686/trace/{trace_id}" });
    viewers.push(traced);

    const page = await open(traced.url);
    await page.locator('[data-testid="rollout-row"][data-key="0.r.0"]').click();
    await expect.poll(() => page.getByTestId("trace-link").getAttribute("href"), WAIT).toBe(`http://jaeger.example:16686/trace/${traceId}`);
    expect(await text(page, "trace-id")).toBe(traceId);
    await expect.poll(() => page.getByTestId("span-row").count(), WAIT).toBe(4);
    // Parents before children, indented under them; the failed tool call marked.
    const rows = page.getByTestId("span-row");
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-name")))).toEqual([
      "gym.rollout",
      "gymmesh.v1.AgentService/Run",
      "chat mock",
      "execute_tool get_weather",
    ]);
    const indent = (n: number) => rows.nth(n).locator(".span-name").evaluate((e) => parseFloat((e as HTMLElement).style.paddingLeft));
    expect([await indent(0), await indent(1), await indent(2), await indent(3)]).toEqual([0, 12, 24, 24]);
    expect(await rows.nth(3).getAttribute("class")).toContain("bad");
    expect(await rows.nth(2).getAttribute("title")).toContain("gen_ai.usage.input_tokens: 12");
    await shot(page, "8-trace");
    // A line without a trace id has no trace strip.
    await page.locator('[data-testid="rollout-row"][data-key="0.r.1"]').click();
    await expect.poll(() => text(page, "detail-head"), WAIT).toContain("task 1");
    expect(await page.getByTestId("trace").count()).toBe(0);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it("a bundle opens from file:// with no server", async () => {
    const out = path.join(dir, "bundle");
    await writeBundle([fx.rollouts, fx.b], out);
    const page = await open(pathToFileURL(path.join(out, "index.html")).href);
    expect(await text(page, "mode")).toBe("static bundle");
    expect(await text(page, "list-count")).toBe("19 of 19 rollouts");
    await page.locator('[data-testid="rollout-row"][data-key="0.r.15"]').click();
    await expect.poll(() => page.getByTestId("item-function_call").count(), WAIT).toBe(2);
    await page.getByTestId("search").fill("went away");
    await page.getByTestId("search").press("Enter");
    await expect.poll(() => text(page, "list-count"), WAIT).toBe("1 of 19 rollouts");
    await page.getByTestId("view-compare").click();
    expect(await page.getByTestId("compare-row").count()).toBe(6);
    await shot(page, "7-bundle");
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });
});
