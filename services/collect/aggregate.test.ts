import { describe, expect, it } from "vitest";
import { aggregate, majorityScore, passAtK } from "./aggregate.js";

describe("passAtK", () => {
  it("is 1 - C(wrong, k) / C(n, k)", () => {
    expect(passAtK(4, 0, 2)).toBe(0);
    expect(passAtK(4, 4, 1)).toBe(1);
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25);
    expect(passAtK(4, 1, 2)).toBeCloseTo(1 - 3 / 6); // C(3,2)/C(4,2)
    expect(passAtK(5, 2, 3)).toBeCloseTo(1 - 1 / 10); // C(3,3)/C(5,3)
    expect(passAtK(3, 1, 3)).toBe(1);
  });
});

describe("majorityScore", () => {
  it("votes on (answer, score) pairs; ties average; no answer counts nothing", () => {
    expect(majorityScore([{ answer: "A", score: 0 }, { answer: "B", score: 1 }, { answer: "B", score: 1 }])).toBe(1);
    expect(majorityScore([{ answer: "A", score: 0 }, { answer: "B", score: 1 }])).toBe(0.5);
    expect(majorityScore([{ answer: null, score: 1 }, { answer: "A", score: 0 }])).toBe(0);
    expect(majorityScore([{ answer: undefined, score: 1 }])).toBe(0);
  });
});

describe("aggregate", () => {
  const line = (agent: string, task: number, repeat: number, reward: number, answer?: string | null) => ({
    agent_ref: { name: agent },
    _ng_task_index: task,
    _ng_rollout_index: repeat,
    reward,
    response: { usage: { output_tokens: 10 * (repeat + 1) } },
    _ng_steps: 2,
    _ng_timings_ms: { total: 10 },
    ...(answer === undefined ? {} : { extracted_answer: answer }),
  });

  it("computes NeMo Gym's per-agent metrics over repeats of each task", () => {
    const rollouts = [
      line("a", 0, 0, 1, "C"), line("a", 0, 1, 0, "B"), line("a", 0, 2, 1, "C"), line("a", 0, 3, 0, null),
      line("a", 1, 3, 1, "C"), line("a", 1, 0, 0, "A"), line("a", 1, 1, 0, "A"), line("a", 1, 2, 0, "B"),
      line("b", 0, 0, 1),
    ];
    const failures = [{ agent_ref: { name: "b" }, _ng_task_index: 1, _ng_rollout_index: 0, error: { code: "unavailable", message: "x" } }];
    const [a, b] = aggregate(rollouts, failures);
    const m = a!.agent_metrics;
    expect(a).toMatchObject({ agent_ref: { name: "a" }, num_rollouts: 8, failed_rollouts: 0 });
    expect(m["mean/reward"]).toBeCloseTo(3 / 8);
    expect(m["max/reward"]).toBe(1);
    expect(m["std/reward"]).toBeCloseTo(Math.sqrt((3 * (5 / 8) ** 2 + 5 * (3 / 8) ** 2) / 7));
    expect(m["mean/output_tokens"]).toBe(25);
    expect(m["mean/_ng_steps"]).toBe(2);
    expect(m["mean/_ng_latency_ms"]).toBe(10);
    expect(m["pass@1/accuracy"]).toBeCloseTo(100 * (2 / 4 + 1 / 4) / 2);
    expect(m["pass@4/accuracy"]).toBeCloseTo(100);
    expect(m["pass@2/accuracy"]).toBeCloseTo(100 * ((1 - 1 / 6) + (1 - 3 / 6)) / 2);
    expect(m["pass@1[avg-of-2]/accuracy"]).toBeCloseTo(100 * (0.5 + 0) / 2);
    // Task 0, first 3: votes (C,1),(B,0),(C,1) -> 1; task 1 (sorted by repeat): (A,0),(A,0),(B,0) -> 0.
    expect(m["majority@3/accuracy"]).toBeCloseTo(50);
    expect(m["pass@1/no_answer"]).toBeCloseTo(100 * (1 / 4 + 0) / 2);
    expect(a!.key_metrics["mean/reward"]).toBeCloseTo(3 / 8);
    expect(a!.group_level_metrics.map((g) => [g._ng_task_index, g["mean/reward"]])).toEqual([[0, 0.5], [1, 0.25]]);
    expect(b).toMatchObject({ agent_ref: { name: "b" }, num_rollouts: 1, failed_rollouts: 1 });
    expect(b!.agent_metrics["pass@1/accuracy"]).toBe(100);
    expect(b!.agent_metrics["majority@1/accuracy"]).toBeUndefined();
  });

  it("takes a run of 300,000 rollouts (no stack overflow, linear time)", () => {
    // 100,000 tasks x 3 repeats
    const rollouts = Array.from({ length: 300_000 }, (_, i) => line("a", i % 100_000, Math.floor(i / 100_000), i % 4 === 0 ? 1 : 0));
    rollouts[7]!.reward = 0.5; // not binary: max over the first k
    const [a] = aggregate(rollouts, []);
    expect(a!.num_rollouts).toBe(300_000);
    expect(a!.agent_metrics["max/output_tokens"]).toBe(30);
    expect(a!.agent_metrics["min/output_tokens"]).toBe(10);
    expect(a!.agent_metrics["mean/reward"]).toBeCloseTo((75_000 + 0.5) / 300_000, 12);
  });
});
