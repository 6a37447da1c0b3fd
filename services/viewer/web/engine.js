// @ts-check
// The page's data model, pure (no DOM; the unit tests run it in Node): the
// server's summary columns -> rows, the failures that still stand, task
// groups (one per agent and task: a reward per repeat, mean, spread, badge),
// the numbers of each agent's header (pass@k as gym collect's metrics count
// it: collect/aggregate.ts), filters, sorting, and the per-task change
// between two runs. A classic script (no modules: a bundle opened from
// file:// loads none), so it hangs off one global, GymView.
(function (/** @type {any} */ G) {
  "use strict";

  /** A reward at or above this passes. */
  const PASS = 1;

  /**
   * @typedef {{ key: string, run: number, src: "r"|"f", i: number, task: number, rep: number, agent: string,
   *   reward: number|null, failed: boolean, code: string, inTok: number|null, outTok: number|null, totTok: number|null,
   *   lat: number|null, turns: number, tools: string[], attempts: number, finish: string, group?: Group }} Row
   * @typedef {{ key: string, agent: string, task: number, rows: Row[], n: number, failures: number, mean: number|null,
   *   std: number|null, min: number|null, max: number|null, badge: string, dead: boolean }} Group
   */

  /** Rows from one file's summary columns (`from` on), names looked up in the string table. */
  function makeRows(run, src, json, strings) {
    const c = json.cols;
    /** @type {Row[]} */
    const rows = [];
    const toolSets = new Map();
    const toolsOf = (id) => {
      let t = toolSets.get(id);
      if (!t) toolSets.set(id, (t = strings[id] ? strings[id].split("\n") : []));
      return t;
    };
    for (let j = 0; j < json.count; j++) {
      const i = json.from + j;
      const code = strings[c.code[j]] || "";
      const failed = src === "f" || code !== "";
      rows.push({
        key: `${run}.${src}.${i}`,
        run,
        src,
        i,
        task: c.task[j],
        rep: c.rep[j],
        agent: strings[c.agent[j]] || "",
        reward: failed ? null : c.reward[j],
        failed,
        code: failed ? code || "unknown" : "",
        inTok: c.inTok[j],
        outTok: c.outTok[j],
        totTok: c.totTok[j],
        lat: c.lat[j],
        turns: c.turns[j],
        tools: toolsOf(c.tools[j]),
        attempts: c.attempts[j],
        finish: strings[c.finish[j]] || "",
      });
    }
    return rows;
  }

  const slot = (r) => `${r.agent}\u0000${r.task}\u0000${r.rep < 0 ? "*" : r.rep}`;

  /**
   * The failures that stand, as gym collect counts them: the last record of
   * each (task, repeat) whose rollout is not in the output (a failure that a
   * retry turned into a rollout is gone).
   */
  function standingFailures(rollouts, failures) {
    const written = new Set(rollouts.map(slot));
    const standing = new Map();
    for (const f of failures) {
      const k = slot(f);
      standing.delete(k);
      if (!written.has(k)) standing.set(k, f);
    }
    return [...standing.values()];
  }

  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  /** Sample standard deviation (n - 1), 0 for one value, as collect/aggregate.ts. */
  function std(xs) {
    if (xs.length === 0) return null;
    if (xs.length < 2) return 0;
    const m = /** @type {number} */ (mean(xs));
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  }

  /** The reward of a rollout row for counting (a missing reward counts 0, as Number(null)). */
  const rewardOf = (r) => (r.reward === null || Number.isNaN(r.reward) ? 0 : r.reward);

  /** Task groups: one per agent and task, repeats in order, with their badge. */
  function groupsOf(rows) {
    /** @type {Map<string, Group>} */
    const groups = new Map();
    for (const r of rows) {
      const key = `${r.run}\u0000${r.agent}\u0000${r.task}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { key, agent: r.agent, task: r.task, rows: [], n: 0, failures: 0, mean: null, std: null, min: null, max: null, badge: "", dead: false }));
      g.rows.push(r);
      r.group = g;
    }
    for (const g of groups.values()) {
      g.rows.sort((a, b) => a.rep - b.rep || (a.src < b.src ? -1 : a.src > b.src ? 1 : a.i - b.i));
      const rewards = g.rows.filter((r) => !r.failed).map(rewardOf);
      g.n = rewards.length;
      g.failures = g.rows.length - g.n;
      g.mean = mean(rewards);
      g.std = std(rewards);
      g.min = rewards.length ? Math.min(...rewards) : null;
      g.max = rewards.length ? Math.max(...rewards) : null;
      // Failures have no reward: they set no badge (but a group of failures only is "failed").
      g.badge = g.n === 0 ? "failed" : rewards.every((x) => x >= PASS) ? "all-pass" : rewards.every((x) => x <= 0) ? "all-fail" : "mixed";
      // Dead for GRPO: two or more rewards, all equal: no advantage to learn from.
      g.dead = g.n >= 2 && g.std === 0;
    }
    return [...groups.values()];
  }

  /** 1 - C(wrong, k) / C(n, k): the chance that k of n samples hold a correct one. */
  function passAtK(n, correct, k) {
    const wrong = n - correct;
    if (wrong < k) return 1;
    let ratio = 1;
    for (let i = 0; i < k; i++) ratio *= (wrong - i) / (n - i);
    return 1 - ratio;
  }

  /** pass@k (in %) over groups' rollouts for k = 1..K, as collect/aggregate.ts: binary rewards by the formula, others the best of the first k. */
  function passMetrics(groups) {
    const tasks = groups.map((g) => g.rows.filter((r) => !r.failed).map(rewardOf)).filter((t) => t.length > 0);
    const maxK = Math.max(0, ...tasks.map((t) => t.length));
    /** @type {Record<number, number>} */
    const pass = {};
    for (let k = 1; k <= maxK; k++) {
      const values = tasks
        .filter((t) => t.length >= k)
        .map((t) => (t.every((v) => v === 0 || v === 1) ? passAtK(t.length, t.filter((v) => v === 1).length, k) : Math.max(...t.slice(0, k))));
      pass[k] = 100 * /** @type {number} */ (mean(values));
    }
    return { k: maxK, pass };
  }

  /** The header numbers of each agent of a run. */
  function agentStats(rows, groups) {
    const agents = [...new Set(rows.map((r) => r.agent))].sort();
    return agents.map((agent) => {
      const mine = rows.filter((r) => r.agent === agent);
      const done = mine.filter((r) => !r.failed);
      const gs = groups.filter((g) => g.agent === agent);
      const nums = (f) => done.map(f).filter((v) => v !== null && !Number.isNaN(v));
      const tokens = nums((r) => r.totTok);
      const { k, pass } = passMetrics(gs);
      return {
        agent,
        rollouts: done.length,
        failures: mine.length - done.length,
        meanReward: mean(done.map(rewardOf)),
        pass1: k >= 1 ? pass[1] : null,
        passK: k >= 1 ? pass[k] : null,
        k,
        tokensMean: mean(tokens),
        tokensSum: tokens.reduce((a, b) => a + b, 0),
        outTokensMean: mean(nums((r) => r.outTok)),
        latencyMean: mean(nums((r) => r.lat)),
        tasks: gs.length,
        dead: gs.filter((g) => g.dead).length,
        allPass: gs.filter((g) => g.badge === "all-pass").length,
        allFail: gs.filter((g) => g.badge === "all-fail").length,
        mixed: gs.filter((g) => g.badge === "mixed").length,
      };
    });
  }

  /** One run's model: its rows (rollouts, then the failures that stand), groups and header. */
  function buildRun(rollouts, failures) {
    const rows = [...rollouts, ...standingFailures(rollouts, failures)];
    const groups = groupsOf(rows);
    const tools = [...new Set(rows.flatMap((r) => r.tools))].sort();
    const agents = [...new Set(rows.map((r) => r.agent))].sort();
    return { rows, groups, tools, agents, stats: agentStats(rows, groups), superseded: failures.length - (rows.length - rollouts.length) };
  }

  const numOr = (v) => (v === undefined || v === "" || v === null || Number.isNaN(Number(v)) ? null : Number(v));

  /** The filter of rows: `f` holds the URL's strings (status, rmin, rmax, agent, tool, tmin, tmax, task, dead, badge); `matches` the search's row keys, or null. */
  function rowFilter(f, matches) {
    const rmin = numOr(f.rmin);
    const rmax = numOr(f.rmax);
    const tmin = numOr(f.tmin);
    const tmax = numOr(f.tmax);
    const task = numOr(f.task);
    /** @param {Row} r */
    return (r) => {
      if (f.status === "pass" && (r.failed || rewardOf(r) < PASS)) return false;
      if (f.status === "fail" && (r.failed || rewardOf(r) >= PASS)) return false;
      if (f.status === "failed" && !r.failed) return false;
      if (f.status === "ok" && r.failed) return false;
      if ((rmin !== null || rmax !== null) && (r.failed || (rmin !== null && rewardOf(r) < rmin) || (rmax !== null && rewardOf(r) > rmax))) return false;
      if (f.agent && r.agent !== f.agent) return false;
      if (f.tool === "-" ? r.tools.length > 0 : f.tool && !r.tools.includes(f.tool)) return false;
      if ((tmin !== null && r.turns < tmin) || (tmax !== null && r.turns > tmax)) return false;
      if (task !== null && r.task !== task) return false;
      if (matches && !matches.has(r.key)) return false;
      return true;
    };
  }

  /** The filter of groups: dead (only | hide) and badge. */
  function groupFilter(f) {
    /** @param {Group} g */
    return (g) => {
      if (f.dead === "only" && !g.dead) return false;
      if (f.dead === "hide" && g.dead) return false;
      if (f.badge && g.badge !== f.badge) return false;
      return true;
    };
  }

  /** Rows that pass both filters (a row's group must pass too). */
  function filterRows(rows, f, matches) {
    const rowOk = rowFilter(f, matches);
    const groupOk = groupFilter(f);
    return rows.filter((r) => rowOk(r) && (!r.group || groupOk(r.group)));
  }

  /** Groups that pass the group filter and hold a row that passes the row filter. */
  function filterGroups(groups, f, matches) {
    const rowOk = rowFilter(f, matches);
    const groupOk = groupFilter(f);
    return groups.filter((g) => groupOk(g) && g.rows.some(rowOk));
  }

  /** Sort keys of rows; missing values go last whatever the direction. */
  const ROW_KEYS = {
    reward: (r) => (r.failed ? null : rewardOf(r)),
    tokens: (r) => r.totTok,
    latency: (r) => r.lat,
    turns: (r) => r.turns,
    variance: (r) => (r.group ? r.group.std : null),
    task: (r) => r.task * 1e6 + Math.max(r.rep, 0),
  };
  const GROUP_KEYS = {
    task: (g) => g.task,
    mean: (g) => g.mean,
    variance: (g) => g.std,
    reward: (g) => g.mean,
    n: (g) => g.rows.length,
  };

  function sortBy(items, keyFn, desc) {
    const keyed = items.map((item, i) => ({ item, i, k: keyFn(item) }));
    keyed.sort((a, b) => {
      const an = a.k === null || a.k === undefined || Number.isNaN(a.k);
      const bn = b.k === null || b.k === undefined || Number.isNaN(b.k);
      if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1;
      return (desc ? b.k - a.k : a.k - b.k) || a.i - b.i;
    });
    return keyed.map((x) => x.item);
  }

  /** Rows in the order asked for ("" keeps the files' order: the order lines landed). */
  function sortRows(rows, sort, desc) {
    const fn = ROW_KEYS[sort];
    return fn ? sortBy(rows, fn, desc) : desc ? [...rows].reverse() : rows;
  }

  function sortGroups(groups, sort, desc) {
    return sortBy(groups, GROUP_KEYS[sort] || GROUP_KEYS.task, desc);
  }

  /**
   * The change per task between two runs: runs that share an agent match by
   * agent and task, others by task alone (two models' agents may differ by name).
   */
  function compareRuns(a, b) {
    const byAgent = a.agents.some((x) => b.agents.includes(x));
    const keyOf = (r) => (byAgent ? `${r.agent}\u0000${r.task}` : String(r.task));
    const tally = (rows) => {
      const m = new Map();
      for (const r of rows) {
        const k = keyOf(r);
        let t = m.get(k);
        if (!t) m.set(k, (t = { task: r.task, agent: byAgent ? r.agent : "", rewards: [], failures: 0 }));
        if (r.failed) t.failures++;
        else t.rewards.push(rewardOf(r));
      }
      return m;
    };
    const ta = tally(a.rows);
    const tb = tally(b.rows);
    const out = [];
    for (const k of new Set([...ta.keys(), ...tb.keys()])) {
      const x = ta.get(k);
      const y = tb.get(k);
      const ma = x ? mean(x.rewards) : null;
      const mb = y ? mean(y.rewards) : null;
      const base = x || y;
      out.push({
        key: k,
        task: base.task,
        agent: base.agent,
        a: ma,
        b: mb,
        na: x ? x.rewards.length : 0,
        nb: y ? y.rewards.length : 0,
        fa: x ? x.failures : 0,
        fb: y ? y.failures : 0,
        delta: ma !== null && mb !== null ? mb - ma : null,
      });
    }
    return sortBy(out, (c) => c.task, false);
  }

  function sortCompare(rows, sort, desc) {
    const keys = { delta: (c) => c.delta, absdelta: (c) => (c.delta === null ? null : Math.abs(c.delta)), a: (c) => c.a, b: (c) => c.b, task: (c) => c.task };
    return sortBy(rows, keys[sort] || keys.task, desc);
  }

  /** Compare rows by what changed: "up", "down", "same", or "" for all. */
  function filterCompare(rows, change) {
    if (!change) return rows;
    return rows.filter((c) =>
      change === "up" ? c.delta !== null && c.delta > 0 : change === "down" ? c.delta !== null && c.delta < 0 : change === "same" ? c.delta === 0 : change === "changed" ? c.delta !== null && c.delta !== 0 : true,
    );
  }

  G.engine = {
    PASS,
    makeRows,
    standingFailures,
    groupsOf,
    passAtK,
    passMetrics,
    agentStats,
    buildRun,
    rowFilter,
    filterRows,
    filterGroups,
    sortRows,
    sortGroups,
    compareRuns,
    sortCompare,
    filterCompare,
    mean,
    std,
  };
})((globalThis.GymView = globalThis.GymView || {}));
