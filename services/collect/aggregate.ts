// Metrics over a collection's rollouts, per agent, in the shape of NeMo
// Gym's `<stem>_aggregate_metrics.json` (nemo_gym/reward_profile.py):
// stats of every numeric field (`mean/reward`, `std/output_tokens`...), and
// pass@k, pass@1[avg-of-k] and majority@k over each task's repeats, as
// percentages.
import type { JsonObject } from "@bufbuild/protobuf";

export interface AgentAggregate {
  agent_ref: { name: string };
  agent_metrics: Record<string, number>;
  key_metrics: Record<string, number>;
  group_level_metrics: Record<string, number>[];
  num_rollouts: number;
  /** Rollouts of this agent that failed (not in the stats above). */
  failed_rollouts: number;
}

/** The answer field that majority@k votes on, where the verifier writes one. */
const ANSWER_KEY = "extracted_answer";

/** 1 - C(wrong, k) / C(n, k): the chance that k of n samples hold a correct one. */
export function passAtK(n: number, correct: number, k: number): number {
  const wrong = n - correct;
  if (wrong < k) return 1;
  let ratio = 1;
  for (let i = 0; i < k; i++) ratio *= (wrong - i) / (n - i);
  return 1 - ratio;
}

/**
 * majority@k of one task: votes are (answer, score) pairs of the first k
 * rollouts that have an answer; the value is the mean score of the pairs
 * tied for the most votes (0 when no rollout has an answer).
 */
export function majorityScore(votes: { answer: unknown; score: number }[]): number {
  const counts = new Map<string, { count: number; score: number }>();
  for (const v of votes) {
    if (v.answer === null || v.answer === undefined) continue;
    const key = JSON.stringify([v.answer, v.score]);
    const entry = counts.get(key) ?? { count: 0, score: v.score };
    entry.count++;
    counts.set(key, entry);
  }
  if (counts.size === 0) return 0;
  const top = Math.max(...[...counts.values()].map((e) => e.count));
  const tied = [...counts.values()].filter((e) => e.count === top);
  return mean(tied.map((e) => e.score));
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
// Loops, not Math.max(...xs): a spread of a few hundred thousand values overflows the stack.
const max = (xs: number[]) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const min = (xs: number[]) => xs.reduce((a, b) => (b < a ? b : a), Infinity);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Sample standard deviation (n - 1), 0 for a single value, as pandas after NeMo Gym's fix-up. */
function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The numeric top-level fields of a rollout line, with the response's token usage. */
function numericFields(line: JsonObject): Record<string, number> {
  const usage = ((line.response as JsonObject | null)?.usage ?? {}) as JsonObject;
  const fields: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...line, ...usage })) {
    if (k === "_ng_task_index" || k === "_ng_rollout_index") continue;
    if (typeof v === "number") fields[k] = v;
    else if (typeof v === "boolean") fields[k] = Number(v);
  }
  const total = (line._ng_timings_ms as JsonObject | undefined)?.total;
  if (typeof total === "number") fields._ng_latency_ms = total;
  return fields;
}

function stats(lines: JsonObject[]): Record<string, number> {
  const columns = new Map<string, number[]>();
  for (const line of lines) {
    for (const [k, v] of Object.entries(numericFields(line))) {
      const column = columns.get(k);
      if (column) column.push(v);
      else columns.set(k, [v]);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, values] of [...columns].sort(([a], [b]) => a.localeCompare(b))) {
    out[`mean/${name}`] = mean(values);
    out[`max/${name}`] = max(values);
    out[`min/${name}`] = min(values);
    out[`median/${name}`] = median(values);
    out[`std/${name}`] = std(values);
  }
  return out;
}

/** pass@k, pass@1[avg-of-k] and majority@k for k = 1..(most repeats of a task). */
function passMajority(tasks: JsonObject[][]): Record<string, number> {
  const hasAnswers = tasks.some((t) => t.some((l) => ANSWER_KEY in l));
  const scoresOf = (l: JsonObject): Record<string, number> => ({
    accuracy: Number(l.reward),
    ...(hasAnswers ? { no_answer: l[ANSWER_KEY] === null || l[ANSWER_KEY] === undefined ? 1 : 0 } : {}),
  });
  const maxK = max([0, ...tasks.map((t) => t.length)]);
  const names = hasAnswers ? ["accuracy", "no_answer"] : ["accuracy"];
  const out: Record<string, number> = {};
  for (let k = 1; k <= maxK; k++) {
    for (const name of names) {
      const eligible = tasks.filter((t) => t.length >= k);
      const pass = eligible.map((t) => {
        const values = t.map((l) => scoresOf(l)[name]!);
        const binary = values.every((v) => v === 0 || v === 1);
        return binary ? passAtK(values.length, values.filter((v) => v === 1).length, k) : Math.max(...values.slice(0, k));
      });
      out[`pass@${k}/${name}`] = 100 * mean(pass);
      out[`pass@1[avg-of-${k}]/${name}`] = 100 * mean(eligible.map((t) => mean(t.slice(0, k).map((l) => scoresOf(l)[name]!))));
      if (hasAnswers) {
        out[`majority@${k}/${name}`] =
          100 * mean(tasks.map((t) => majorityScore(t.slice(0, k).map((l) => ({ answer: l[ANSWER_KEY], score: scoresOf(l)[name]! })))));
      }
    }
  }
  return out;
}

/** Rollout lines (and failure lines) of one run -> one entry per agent. */
export function aggregate(rollouts: JsonObject[], failures: JsonObject[]): AgentAggregate[] {
  const agentOf = (line: JsonObject) => String((line.agent_ref as JsonObject | undefined)?.name ?? "");
  const agents = [...new Set([...rollouts.map(agentOf), ...failures.map(agentOf)])].sort();
  return agents.map((agent) => {
    const groups = new Map<number, JsonObject[]>();
    for (const line of rollouts.filter((l) => agentOf(l) === agent)) {
      const task = Number(line._ng_task_index);
      const group = groups.get(task);
      if (group) group.push(line);
      else groups.set(task, [line]);
    }
    const tasks = [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, lines]) => lines.sort((x, y) => Number(x._ng_rollout_index) - Number(y._ng_rollout_index)));
    const agentMetrics = { ...stats(tasks.flat()), ...passMajority(tasks) };
    return {
      agent_ref: { name: agent },
      agent_metrics: agentMetrics,
      key_metrics: Object.fromEntries(Object.entries(agentMetrics).filter(([k]) => k.startsWith("mean/"))),
      group_level_metrics: [...groups.keys()].sort((a, b) => a - b).map((task) => ({ ...stats(groups.get(task)!), _ng_task_index: task })),
      num_rollouts: tasks.flat().length,
      failed_rollouts: failures.filter((l) => agentOf(l) === agent).length,
    };
  });
}

/** A markdown table of the headline metrics, for the terminal. */
export function metricsTable(entries: AgentAggregate[]): string {
  const head = ["agent", "rollouts", "mean reward", "pass@1", "pass@k", "majority@k", "mean steps", "mean latency", "failures"];
  const rows = entries.map((e) => {
    const m = e.agent_metrics;
    const k = Math.max(0, ...Object.keys(m).map((key) => Number(key.match(/^pass@(\d+)\/accuracy$/)?.[1] ?? 0)));
    const pct = (key: string) => (m[key] === undefined ? "-" : `${m[key]!.toFixed(1)}%`);
    return [
      e.agent_ref.name,
      String(e.num_rollouts),
      m["mean/reward"]?.toFixed(4) ?? "-",
      pct("pass@1/accuracy"),
      k ? `${pct(`pass@${k}/accuracy`)} (k=${k})` : "-",
      k ? pct(`majority@${k}/accuracy`) : "-",
      m["mean/_ng_steps"]?.toFixed(2) ?? "-",
      m["mean/_ng_latency_ms"] === undefined ? "-" : `${m["mean/_ng_latency_ms"].toFixed(0)} ms`,
      String(e.failed_rollouts),
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
