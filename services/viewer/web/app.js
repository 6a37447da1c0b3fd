// @ts-check
// The page: loads the runs' summaries, keeps them current (live), and draws
// the header per agent, the list (rollouts, task groups, or the change
// between two runs), the filters and the open rollout. All state that a
// link should carry is in the URL's hash (state.js).
(function (/** @type {any} */ G) {
  "use strict";
  const { h, fmt, engine: E, transport: T, urlState, taskLabel, rewardClass } = G;
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

  const ROW_HEIGHT = 30;
  /** Live updates are drawn at most this often. */
  const REDRAW_MS = 400;
  /** While lines land, an open search runs again at most this often. */
  const SEARCH_AGAIN_MS = 2000;

  const A = {
    meta: /** @type {any} */ (null),
    strings: /** @type {string[]} */ ([]),
    /** src[run][r|f] = { gen, count, rows } */
    src: /** @type {any[]} */ ([]),
    models: /** @type {any[]} */ ([]),
    compare: /** @type {any[] | null} */ (null),
    byKey: new Map(),
    items: /** @type {any[]} */ ([]),
    cursor: 0,
    st: urlState.read(),
    search: { q: "", run: -1, at: 0, matches: /** @type {Set<string> | null} */ (null), error: "", busy: false, truncated: false },
    lines: new Map(),
    detailToken: 0,
    down: false,
  };
  let list = /** @type {any} */ (null);

  const runIndex = () => Math.min(Number(A.st.run) || 0, Math.max(0, A.src.length - 1));
  const views = () => (A.src.length === 2 ? ["rollouts", "tasks", "compare"] : ["rollouts", "tasks"]);
  const view = () => (views().includes(A.st.view) ? A.st.view : "rollouts");

  /** Sets URL state keys and redraws what depends on them. */
  function set(patch, { refilter = true, detail = false } = {}) {
    Object.assign(A.st, patch);
    urlState.write(A.st);
    if (refilter) refilterAndDraw();
    drawControls();
    if (detail) drawDetail();
  }

  // ---- data

  async function fetchSource(run, src) {
    const held = A.src[run][src];
    const res = await T.summaries(run, src, held.count, held.gen);
    A.strings = res.strings;
    const rows = E.makeRows(run, src, res, A.strings);
    if (res.gen !== held.gen || res.from === 0) {
      // A new file (replaced, cut): what was held of it is gone, and so are searches and lines read from it.
      if (held.count > 0 || res.gen !== held.gen) {
        A.search.run = -1;
        for (const k of [...A.lines.keys()]) if (k.startsWith(`${run}.${src}.`)) A.lines.delete(k);
      }
      held.rows = rows;
    } else {
      for (const r of rows) held.rows.push(r);
    }
    held.gen = res.gen;
    held.count = res.from + res.count;
  }

  function rebuild() {
    A.models = A.src.map((s) => E.buildRun(s.r.rows, s.f.rows));
    A.byKey = new Map();
    for (const m of A.models) for (const r of m.rows) A.byKey.set(r.key, r);
    A.compare = A.models.length === 2 ? E.compareRuns(A.models[0], A.models[1]) : null;
  }

  let fetching = false;
  let again = false;
  /** Fetches the summaries the server has and the page lacks, then redraws (one at a time; a later call runs again after). */
  async function sync(state) {
    if (state) A.meta.runs = state.runs;
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      let first = true;
      do {
        // Lines landing fast are drawn in batches, not one redraw each.
        if (!first) await new Promise((r) => setTimeout(r, REDRAW_MS));
        first = false;
        again = false;
        const wants = [];
        A.meta.runs.forEach((run, i) => {
          for (const src of ["r", "f"]) if (run[src].gen !== A.src[i][src].gen || run[src].rows !== A.src[i][src].count) wants.push(fetchSource(i, src));
        });
        await Promise.all(wants);
        if (wants.length) {
          rebuild();
          // New lines are searched too: the search runs again (at most every few seconds while lines land).
          if (A.st.q && A.search.run === -1) await runSearch();
          else if (A.st.q) searchAgainSoon();
          refilterAndDraw();
          drawHeader();
        }
      } while (again);
    } finally {
      fetching = false;
    }
    drawLive();
  }

  async function runSearch() {
    const q = A.st.q;
    const run = runIndex();
    // The same search again (new lines landed) keeps its matches until the new ones come.
    const kept = A.search.q === q && A.search.run === run ? A.search.matches : null;
    A.search = { q, run, at: Date.now(), matches: kept, error: "", busy: Boolean(q), truncated: false };
    drawControls();
    if (!q) return;
    try {
      const res = await T.search(run, q);
      if (A.st.q !== q || runIndex() !== run) return;
      A.search.matches = new Set([...res.r.map((i) => `${run}.r.${i}`), ...res.f.map((i) => `${run}.f.${i}`)]);
      A.search.truncated = res.truncated;
    } catch (err) {
      A.search.error = /** @type {Error} */ (err).message;
      A.search.matches = new Set();
    }
    A.search.busy = false;
  }

  let searchTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
  function searchAgainSoon() {
    if (searchTimer) return;
    const wait = Math.max(0, SEARCH_AGAIN_MS - (Date.now() - A.search.at));
    searchTimer = setTimeout(() => {
      searchTimer = undefined;
      if (A.st.q) void searchNow();
    }, wait);
  }

  async function searchNow() {
    await runSearch();
    refilterAndDraw();
    drawControls();
  }

  // ---- the list

  function refilterAndDraw() {
    const m = A.models[runIndex()];
    if (!m) return;
    const v = view();
    const matches = A.st.q && A.search.q === A.st.q ? A.search.matches : null;
    const desc = A.st.desc === "1";
    if (v === "tasks") A.items = E.sortGroups(E.filterGroups(m.groups, A.st, matches), A.st.sort, desc);
    else if (v === "compare") A.items = E.sortCompare(E.filterCompare(A.compare || [], A.st.change), A.st.sort, desc);
    else A.items = E.sortRows(E.filterRows(m.rows, A.st, matches), A.st.sort, desc);
    A.cursor = Math.min(A.cursor, Math.max(0, A.items.length - 1));
    const total = v === "tasks" ? m.groups.length : v === "compare" ? (A.compare || []).length : m.rows.length;
    $("list-count").textContent = `${A.items.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} ${v === "rollouts" ? "rollouts" : "tasks"}`;
    $("list").classList.toggle("empty", A.items.length === 0);
    drawListHead();
    list.setCount(A.items.length);
  }

  const COLUMNS = {
    rollouts: [["reward", "reward"], ["task", "task#rep"], ["", "agent"], ["turns", "turns"], ["tokens", "tokens"], ["latency", "latency"], ["", "tools"], ["", "finish"]],
    tasks: [["task", "task"], ["", "agent"], ["n", "rewards per repeat"], ["mean", "mean"], ["variance", "std"], ["", "badge"]],
    compare: [["task", "task"], ["", "agent"], ["a", "A mean"], ["b", "B mean"], ["delta", "change"]],
  };

  function drawListHead() {
    const v = view();
    $("list-head").className = `list-head cols-${v}`;
    $("list-head").replaceChildren(
      ...COLUMNS[v].map(([key, label]) =>
        h(
          "span",
          {
            class: key ? `sortable${A.st.sort === key ? " sorted" : ""}` : "",
            onclick: key ? () => set({ sort: key, desc: A.st.sort === key && A.st.desc !== "1" ? "1" : "" }) : null,
          },
          label,
          A.st.sort === key && key ? (A.st.desc === "1" ? " ↓" : " ↑") : "",
        ),
      ),
    );
  }

  function chip(r) {
    const label = r.failed ? "✕" : fmt.reward(r.reward);
    const title = r.failed ? `repeat ${r.rep}: failed (${r.code})` : `repeat ${r.rep}: reward ${fmt.reward(r.reward)}`;
    return h(
      "span",
      {
        class: `chip ${rewardClass(r)}${r.key === A.st.sel ? " open" : ""}`,
        title,
        "data-testid": "chip",
        "data-key": r.key,
        onclick: (e) => {
          e.stopPropagation();
          open(r.key);
        },
      },
      label,
    );
  }

  function drawRow(i, el) {
    const v = view();
    const item = A.items[i];
    el.classList.add(`cols-${v}`);
    if (i === A.cursor) el.classList.add("cursor");
    if (v === "rollouts") {
      const r = item;
      el.dataset.testid = "rollout-row";
      el.dataset.key = r.key;
      if (r.key === A.st.sel) el.classList.add("selected");
      el.onclick = () => {
        A.cursor = i;
        open(r.key);
      };
      el.append(
        h("span", null, chip(r)),
        h("span", null, `${taskLabel(r.task)}#${r.rep < 0 ? "*" : r.rep}`),
        h("span", { class: "ellipsis" }, r.agent || "(no agent)"),
        h("span", { class: "num" }, r.failed ? "" : String(r.turns)),
        h("span", { class: "num" }, fmt.int(r.totTok)),
        h("span", { class: "num" }, fmt.ms(r.lat)),
        h("span", { class: "ellipsis muted" }, r.tools.join(", ")),
        h("span", { class: `ellipsis ${r.failed ? "bad" : "muted"}` }, r.failed ? r.code : r.finish),
      );
    } else if (v === "tasks") {
      const g = item;
      el.dataset.testid = "group-row";
      el.dataset.task = String(g.task);
      el.dataset.badge = g.badge;
      el.dataset.dead = g.dead ? "1" : "";
      if (g.rows.some((r) => r.key === A.st.sel)) el.classList.add("selected");
      el.onclick = () => {
        A.cursor = i;
        open(g.rows[0].key);
      };
      const shown = g.rows.slice(0, 24);
      el.append(
        h("span", null, taskLabel(g.task)),
        h("span", { class: "ellipsis" }, g.agent || "(no agent)"),
        h("span", { class: "chips" }, shown.map(chip), g.rows.length > shown.length ? h("span", { class: "muted" }, ` +${g.rows.length - shown.length}`) : null),
        h("span", { class: "num", "data-testid": "group-mean" }, fmt.num(g.mean)),
        h("span", { class: "num" }, g.std === null ? "–" : `±${fmt.num(g.std)}`),
        h("span", null, h("span", { class: `badge b-${g.badge}`, "data-testid": "badge" }, g.badge), g.dead ? h("span", { class: "badge b-dead", title: "all rewards equal: no GRPO signal" }, "dead") : null),
      );
    } else {
      const c = item;
      el.dataset.testid = "compare-row";
      el.dataset.task = String(c.task);
      el.onclick = () => {
        A.cursor = i;
        openCompare(c);
      };
      const cls = c.delta === null ? "muted" : c.delta > 0 ? "up" : c.delta < 0 ? "down" : "muted";
      el.append(
        h("span", null, taskLabel(c.task)),
        h("span", { class: "ellipsis" }, c.agent || "(any agent)"),
        h("span", { class: "num" }, `${fmt.num(c.a)} (${c.na}${c.fa ? `+${c.fa}✕` : ""})`),
        h("span", { class: "num" }, `${fmt.num(c.b)} (${c.nb}${c.fb ? `+${c.fb}✕` : ""})`),
        h("span", { class: `num delta ${cls}`, "data-testid": "delta" }, fmt.signed(c.delta)),
      );
    }
  }

  /** From the change between runs to the task's repeats in run A. */
  function openCompare(c) {
    set({ view: "tasks", task: String(c.task), run: "0", ...(c.agent ? { agent: c.agent } : {}) });
    const g = A.items[0];
    if (g) open(g.rows[0].key);
  }

  /** Puts the cursor on the open rollout (or its group), as after a link is opened. */
  function cursorToSel() {
    const v = view();
    const i = v === "rollouts" ? A.items.findIndex((r) => r.key === A.st.sel) : v === "tasks" ? A.items.findIndex((g) => g.rows.some((r) => r.key === A.st.sel)) : -1;
    if (i >= 0) {
      A.cursor = i;
      list.reveal(i);
    }
  }

  function moveCursor(d) {
    if (!A.items.length) return;
    A.cursor = Math.max(0, Math.min(A.items.length - 1, A.cursor + d));
    list.reveal(A.cursor);
  }

  function openCursor() {
    const item = A.items[A.cursor];
    if (!item) return;
    const v = view();
    if (v === "rollouts") open(item.key);
    else if (v === "tasks") open(item.rows[0].key);
    else openCompare(item);
  }

  function open(key) {
    set({ sel: key }, { refilter: false, detail: true });
    cursorToSel();
    list.render();
  }

  // ---- the open rollout

  async function drawDetail() {
    const pane = $("detail");
    const key = A.st.sel;
    const row = A.byKey.get(key);
    if (!row) {
      pane.replaceChildren(h("div", { class: "muted pad", "data-testid": "detail-empty" }, key ? "this rollout is not in the file (any more)" : "pick a rollout: click one, or j/k and Enter"));
      return;
    }
    const token = ++A.detailToken;
    const tabs = [["transcript", "Transcript"], ["verifier", "Verifier"], ["raw", "Raw JSON"]];
    const tab = tabs.some(([t]) => t === A.st.tab) ? A.st.tab : "transcript";
    const head = h(
      "div",
      { class: "detail-head", "data-testid": "detail-head" },
      h(
        "div",
        { class: "detail-title" },
        h("span", { class: `chip ${rewardClass(row)}` }, row.failed ? "✕" : fmt.reward(row.reward)),
        ` task ${taskLabel(row.task)} · repeat ${row.rep < 0 ? "all" : row.rep} · ${row.agent || "(no agent)"}`,
        row.failed ? h("span", { class: "bad" }, ` · failed: ${row.code}`) : ` · ${row.turns} turns · ${fmt.int(row.totTok)} tokens · ${fmt.ms(row.lat)}`,
        row.attempts > 1 ? ` · ${row.attempts} tries` : "",
        h("span", { class: "muted small" }, `  ${row.src === "f" ? "failures" : "rollouts"} line ${row.i + 1}`),
      ),
      h(
        "div",
        { class: "tabs" },
        tabs.map(([t, label], n) => h("button", { class: t === tab ? "active" : "", "data-testid": `tab-${t}`, title: `key ${n + 1}`, onclick: () => set({ tab: t }, { refilter: false, detail: true }) }, label)),
        h("button", { class: `toggle${A.st.raw ? " active" : ""}`, "data-testid": "md-toggle", title: "key m", onclick: () => set({ raw: A.st.raw ? "" : "1" }, { refilter: false, detail: true }) }, A.st.raw ? "raw text" : "markdown"),
      ),
    );
    let text = A.lines.get(key);
    if (text === undefined) {
      pane.replaceChildren(head, h("div", { class: "muted pad" }, "reading the line…"));
      try {
        text = await T.line(row.run, row.src, row.i, A.src[row.run][row.src].gen);
      } catch (err) {
        if (token === A.detailToken) pane.replaceChildren(head, h("div", { class: "failure pad" }, `cannot read the line: ${/** @type {Error} */ (err).message}`));
        return;
      }
      if (A.lines.size > 200) A.lines.delete(A.lines.keys().next().value);
      A.lines.set(key, text);
    }
    if (token !== A.detailToken) return;
    let line = null;
    try {
      line = JSON.parse(text);
    } catch {
      // the body says so
    }
    pane.replaceChildren(head, G.trace.view(line, A.meta, T) || "", h("div", { class: "detail-body", "data-testid": `detail-${tab}` }, G.detail.body(tab, text, row, Boolean(A.st.raw))));
  }

  // ---- header, counters, controls

  function drawHeader() {
    const runs = A.meta.runs;
    $("runs").replaceChildren(
      ...A.models.map((m, i) =>
        h(
          "div",
          { class: "run", "data-testid": `run-${i}` },
          h("div", { class: "run-name" }, runs.length > 1 ? h("b", null, i === 0 ? "A " : "B ") : null, runs[i].name, h("span", { class: "muted small" }, `  ${runs[i].path}`)),
          h(
            "table",
            { class: "stats" },
            h("tr", null, ["agent", "rollouts", "mean reward", "pass@1", "pass@k", "failures", "tokens (mean)", "latency (mean)", "tasks", "all-pass / mixed / all-fail", "dead"].map((t) => h("th", null, t))),
            m.stats.map((s) =>
              h(
                "tr",
                { "data-testid": "agent-stats", "data-agent": s.agent },
                h("td", null, s.agent || "(no agent)"),
                h("td", { "data-testid": "stat-rollouts" }, fmt.int(s.rollouts)),
                h("td", { "data-testid": "stat-mean-reward" }, fmt.num(s.meanReward, 4)),
                h("td", { "data-testid": "stat-pass1" }, fmt.pct(s.pass1)),
                h("td", { "data-testid": "stat-passk" }, s.k ? `${fmt.pct(s.passK)} (k=${s.k})` : "–"),
                h("td", { "data-testid": "stat-failures", class: s.failures ? "bad" : "" }, fmt.int(s.failures)),
                h("td", { "data-testid": "stat-tokens" }, fmt.int(s.tokensMean)),
                h("td", { "data-testid": "stat-latency" }, fmt.ms(s.latencyMean)),
                h("td", null, fmt.int(s.tasks)),
                h("td", null, `${s.allPass} / ${s.mixed} / ${s.allFail}`),
                h("td", { "data-testid": "stat-dead" }, fmt.int(s.dead)),
              ),
            ),
            m.stats.length === 0 ? h("tr", null, h("td", { colspan: 11, class: "muted" }, "no lines yet")) : null,
          ),
        ),
      ),
    );
  }

  function drawLive() {
    const parts = A.meta.runs.map((r, i) =>
      h(
        "span",
        { class: "counter" },
        A.meta.runs.length > 1 ? h("b", null, i === 0 ? "A " : "B ") : null,
        h("span", { "data-testid": `count-rollouts-${i}` }, r.r.rows.toLocaleString("en-US")),
        " rollouts · ",
        h("span", { "data-testid": `count-failures-${i}` }, r.f.rows.toLocaleString("en-US")),
        " failures",
        A.meta.live ? [" · ", h("span", { "data-testid": `rate-${i}` }, r.rate.toFixed(1)), " rollouts/s"] : null,
        r.r.tornBytes ? h("span", { class: "warn", "data-testid": "torn" }, ` · a torn last line (${r.r.tornBytes} bytes) ${A.meta.live ? "waits" : "left out"}`) : null,
        !r.r.exists && A.meta.live ? h("span", { class: "warn" }, " · no file yet") : null,
      ),
    );
    const mode = !A.meta.live ? "static bundle" : A.down ? "disconnected" : "live";
    $("live").replaceChildren(...parts, h("span", { class: `mode ${mode === "live" ? "on" : ""}`, "data-testid": "mode" }, mode));
  }

  function select(id, options, key) {
    return h(
      "select",
      { "data-testid": id, "data-key": key, onchange: (e) => set({ [key]: e.target.value }) },
      options.map(([v, label]) => h("option", { value: v }, label)),
    );
  }

  function numberBox(id, placeholder, key) {
    return h("input", { type: "number", step: "any", class: "small-input", "data-testid": id, "data-key": key, placeholder, onchange: (e) => set({ [key]: e.target.value }) });
  }

  let controlsShape = "";
  /**
   * The tabs, filters and sort. They are made again only when what they
   * offer changes (the view, the run, its agents and tools); otherwise their
   * values follow the state in place, so a field being typed in keeps its focus.
   */
  function drawControls() {
    const v = view();
    const m = A.models[runIndex()] || { agents: [], tools: [] };
    const shape = JSON.stringify([v, runIndex(), A.src.length, m.agents, m.tools]);
    if (shape !== controlsShape) {
      controlsShape = shape;
      buildControls(v, m);
    }
    const st = A.st;
    for (const el of /** @type {NodeListOf<HTMLInputElement>} */ ($("controls").querySelectorAll("[data-key]"))) {
      const want = st[/** @type {keyof typeof st} */ (el.dataset.key)] ?? "";
      if (el !== document.activeElement && el.value !== want) el.value = want;
    }
    $("controls").querySelector('[data-testid="sort-dir"]').textContent = st.desc === "1" ? "↓ desc" : "↑ asc";
    const status = $("controls").querySelector(".search-status");
    if (status) {
      status.replaceChildren(
        A.search.busy ? h("span", { class: "muted" }, " searching…") : "",
        A.search.error ? h("span", { class: "bad", "data-testid": "search-error" }, ` ${A.search.error}`) : "",
        A.search.truncated ? h("span", { class: "warn" }, " (stopped early: partial)") : "",
      );
    }
  }

  function buildControls(v, m) {
    const tabs = h(
      "div",
      { class: "views" },
      views().map((name) => h("button", { class: name === v ? "active" : "", "data-testid": `view-${name}`, onclick: () => set({ view: name, sort: "" }) }, name === "compare" ? "Compare A→B" : name[0].toUpperCase() + name.slice(1))),
      A.src.length === 2 && v !== "compare"
        ? h("span", { class: "run-switch" }, ["0", "1"].map((r) => h("button", { class: runIndex() === Number(r) ? "active" : "", "data-testid": `run-switch-${r}`, onclick: () => (set({ run: r, sel: "" }), void searchNow()) }, r === "0" ? "A" : "B")))
        : null,
    );
    const sortOptions = {
      rollouts: [["", "file order"], ["task", "task"], ["reward", "reward"], ["tokens", "tokens"], ["latency", "latency"], ["turns", "turns"], ["variance", "group variance"]],
      tasks: [["", "task"], ["mean", "mean reward"], ["variance", "variance"], ["n", "repeats"]],
      compare: [["", "task"], ["delta", "change"], ["absdelta", "|change|"], ["a", "A mean"], ["b", "B mean"]],
    }[v];
    const sort = h("span", { class: "sort" }, "sort ", select("sort", sortOptions, "sort"), h("button", { "data-testid": "sort-dir", title: "direction", onclick: () => set({ desc: A.st.desc === "1" ? "" : "1" }) }));
    const runSearchFrom = (input) => {
      if (input.value === A.st.q && A.search.q === input.value) return;
      set({ q: input.value }, { refilter: false });
      void searchNow();
    };
    let filters;
    if (v === "compare") {
      filters = [select("filter-change", [["", "all tasks"], ["changed", "changed"], ["up", "better in B"], ["down", "worse in B"], ["same", "unchanged"]], "change")];
    } else {
      filters = [
        h(
          "span",
          { class: "search" },
          h("input", {
            type: "search",
            "data-testid": "search",
            "data-key": "q",
            placeholder: "/ regex over the raw lines",
            onkeydown: (e) => e.key === "Enter" && runSearchFrom(e.target),
            onchange: (e) => runSearchFrom(e.target),
          }),
          h("span", { class: "search-status" }),
        ),
        select("filter-status", [["", "all"], ["pass", "pass (reward ≥ 1)"], ["fail", "not pass"], ["ok", "not failed"], ["failed", "failed"]], "status"),
        h("span", { class: "range" }, "reward ", numberBox("filter-rmin", "min", "rmin"), "–", numberBox("filter-rmax", "max", "rmax")),
        select("filter-agent", [["", "any agent"], ...m.agents.map((a) => [a, a || "(no agent)"])], "agent"),
        select("filter-tool", [["", "any tool"], ["-", "no tool call"], ...m.tools.map((t) => [t, `called ${t}`])], "tool"),
        h("span", { class: "range" }, "turns ", numberBox("filter-tmin", "min", "tmin"), "–", numberBox("filter-tmax", "max", "tmax")),
        select("filter-dead", [["", "all groups"], ["only", "dead groups only"], ["hide", "hide dead groups"]], "dead"),
        select("filter-badge", [["", "any badge"], ["all-pass", "all-pass"], ["all-fail", "all-fail"], ["mixed", "mixed"], ["failed", "failed only"]], "badge"),
        h("span", { class: "range" }, "task ", h("input", { class: "small-input", "data-testid": "filter-task", "data-key": "task", placeholder: "any", onchange: (e) => set({ task: e.target.value }) })),
      ];
    }
    const clear = h(
      "button",
      {
        "data-testid": "clear-filters",
        onclick: () => {
          set({ q: "", status: "", rmin: "", rmax: "", agent: "", tool: "", tmin: "", tmax: "", task: "", dead: "", badge: "", change: "" });
          void searchNow();
        },
      },
      "clear",
    );
    $("controls").replaceChildren(tabs, h("div", { class: "filters" }, filters, sort, clear));
  }

  // ---- keys

  function onKey(e) {
    const t = /** @type {HTMLElement} */ (e.target);
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      "/": () => /** @type {HTMLElement | null} */ (document.querySelector('[data-testid="search"]'))?.focus(),
      j: () => moveCursor(1),
      ArrowDown: () => moveCursor(1),
      k: () => moveCursor(-1),
      ArrowUp: () => moveCursor(-1),
      PageDown: () => moveCursor(20),
      PageUp: () => moveCursor(-20),
      Enter: openCursor,
      1: () => set({ tab: "transcript" }, { refilter: false, detail: true }),
      2: () => set({ tab: "verifier" }, { refilter: false, detail: true }),
      3: () => set({ tab: "raw" }, { refilter: false, detail: true }),
      m: () => set({ raw: A.st.raw ? "" : "1" }, { refilter: false, detail: true }),
      "?": () => $("help").classList.toggle("shown"),
    };
    const fn = keys[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  }

  // ---- start

  async function start() {
    list = new G.VList($("list"), ROW_HEIGHT, drawRow);
    document.addEventListener("keydown", onKey);
    window.addEventListener("hashchange", () => {
      const before = A.st.q;
      A.st = urlState.read();
      drawControls();
      if (A.st.q !== before) void searchNow();
      else refilterAndDraw();
      cursorToSel();
      drawDetail();
    });
    try {
      A.meta = await T.meta();
    } catch (err) {
      $("list").replaceChildren(h("div", { class: "failure pad" }, `cannot reach the viewer: ${/** @type {Error} */ (err).message}`));
      return;
    }
    A.src = A.meta.runs.map(() => ({ r: { gen: -1, count: 0, rows: [] }, f: { gen: -1, count: 0, rows: [] } }));
    document.title = `gym view: ${A.meta.runs.map((r) => r.name).join(" vs ")}`;
    await sync();
    rebuild();
    if (A.st.q) await runSearch();
    drawHeader();
    drawControls();
    refilterAndDraw();
    cursorToSel();
    drawLive();
    await drawDetail();
    document.body.dataset.ready = "1";
    T.subscribe(
      (state) => void sync(state),
      (down) => {
        if (down !== A.down) {
          A.down = down;
          drawLive();
        }
      },
    );
  }

  void start();
})((globalThis.GymView = globalThis.GymView || {}));
