// Rollout files for the viewer's tests: gym collect's line shapes (rollouts,
// `<stem>_failures.jsonl`) with an all-pass, an all-fail, a mixed group, a
// group of failures, a failure superseded by its retry, tool calls, reasoning,
// markdown and TeX, and a torn last line; and a big file made on the spot.
import * as fs from "node:fs";
import * as path from "node:path";

type Json = Record<string, unknown>;

export interface LineSpec {
  task: number;
  rep: number;
  agent: string;
  reward: number;
  text?: string;
  /** Tool calls before the answer: one model turn each, then the answer's turn. */
  calls?: { name: string; args: Json; output: string }[];
  reasoning?: string;
  expected?: string;
  extracted?: string;
  tokens?: [number, number];
  latencyMs?: number;
  incomplete?: boolean;
  /** Token ids on the model's items (NeMo Gym's RL fields): per-turn token counts. */
  tokenIds?: boolean;
}

/** A rollout line as gym collect writes it (nemo-gym/rollout-line.ts). */
export function rolloutLine(s: LineSpec): Json {
  const output: Json[] = [];
  const ids = (n: number) => (s.tokenIds ? { prompt_token_ids: Array.from({ length: 30 + n }, (_, i) => i), generation_token_ids: Array.from({ length: 7 + n }, (_, i) => i) } : {});
  s.calls?.forEach((c, n) => {
    output.push({ type: "function_call", id: `fc_${n}`, call_id: `call_${s.task}_${s.rep}_${n}`, name: c.name, arguments: JSON.stringify(c.args), status: "completed", ...ids(n) });
    output.push({ type: "function_call_output", call_id: `call_${s.task}_${s.rep}_${n}`, output: c.output });
  });
  if (s.reasoning) output.push({ type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: s.reasoning }] });
  output.push({
    type: "message",
    id: "msg_1",
    role: "assistant",
    status: s.incomplete ? "incomplete" : "completed",
    content: [{ type: "output_text", text: s.text ?? `answer ${s.task}/${s.rep}`, annotations: [] }],
  });
  const [inTok, outTok] = s.tokens ?? [100 + s.task, 20 + s.rep];
  return {
    responses_create_params: {
      input: [
        { role: "developer", content: "You are a careful assistant." },
        { role: "user", content: `Question number ${s.task}: what is ${s.task} + ${s.task}?` },
      ],
      ...(s.calls ? { tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }] } : {}),
    },
    response: {
      id: `resp_${s.task}_${s.rep}`,
      model: "test-model",
      object: "response",
      status: s.incomplete ? "incomplete" : "completed",
      incomplete_details: s.incomplete ? { reason: "max_output_tokens" } : null,
      output,
      usage: { input_tokens: inTok, output_tokens: outTok, total_tokens: inTok + outTok, output_tokens_details: { reasoning_tokens: 0 } },
    },
    reward: s.reward,
    ...(s.expected !== undefined ? { expected_answer: s.expected } : {}),
    ...(s.extracted !== undefined ? { extracted_answer: s.extracted } : {}),
    _ng_task_index: s.task,
    _ng_rollout_index: s.rep,
    agent_ref: { name: s.agent },
    _ng_steps: (s.calls?.length ?? 0) + 1,
    _ng_attempts: 1,
    _ng_timings_ms: { model: 10, tools: 1, verify: 1, total: s.latencyMs ?? 50 + s.task * 10 + s.rep },
  };
}

export function failureLine(task: number, rep: number | undefined, agent: string, code: string, message: string): Json {
  return {
    responses_create_params: { input: [{ role: "user", content: `Question number ${task}` }] },
    _ng_task_index: task,
    ...(rep !== undefined ? { _ng_rollout_index: rep } : {}),
    agent_ref: { name: agent },
    error: { code, message },
  };
}

export const MATH = "math_agent";
export const TOOLS = "tool_agent";

/** Rewards of run A's math groups, by task (4 repeats): all-pass, all-fail, mixed, and mixed with a failure. */
export const RUN_A: Record<number, (number | "failed")[]> = {
  0: [1, 1, 1, 1],
  1: [0, 0, 0, 0],
  2: [1, 0, 1, 0],
  3: [1, 0.5, 0, "failed"],
};
/** Run B: task 1 got better, task 2 worse. */
export const RUN_B: Record<number, (number | "failed")[]> = {
  0: [1, 1, 1, 1],
  1: [1, 0, 1, 0],
  2: [0, 0, 0, 0],
  3: [1, 1, 0, 1],
};

const MARKDOWN = [
  "## Result",
  "",
  "The sum is **even**, as $2x = x + x$ and $$\\frac{a}{b} \\le \\sqrt{2}$$ holds.",
  "",
  "- first point",
  "- second `code_point`",
  "",
  "```python",
  "print('$not math$')",
  "```",
  "",
  "So the answer is \\boxed{\\frac{1}{2}}.",
  "",
  "<img src=x onerror=alert(1)> <script>window.__pwned = 1</script>",
].join("\n");

export interface FixtureFiles {
  rollouts: string;
  failures: string;
  b: string;
  bFailures: string;
}

const jsonl = (lines: Json[]) => lines.map((l) => JSON.stringify(l)).join("\n") + "\n";

/** Writes run A (with its failures file and a torn last line) and run B into `dir`. */
export function writeFixtureRuns(dir: string): FixtureFiles {
  fs.mkdirSync(dir, { recursive: true });
  const files: FixtureFiles = {
    rollouts: path.join(dir, "rollouts.jsonl"),
    failures: path.join(dir, "rollouts_failures.jsonl"),
    b: path.join(dir, "rollouts_b.jsonl"),
    bFailures: path.join(dir, "rollouts_b_failures.jsonl"),
  };
  const mathLines = (rewards: Record<number, (number | "failed")[]>) =>
    Object.entries(rewards).flatMap(([task, rs]) =>
      rs.flatMap((r, rep) =>
        r === "failed" ? [] : [rolloutLine({ task: Number(task), rep, agent: MATH, reward: r, expected: `${Number(task) * 2}`, extracted: r === 1 ? `${Number(task) * 2}` : "7" })],
      ),
    );
  const toolLines = [
    rolloutLine({
      task: 0,
      rep: 0,
      agent: TOOLS,
      reward: 1,
      text: MARKDOWN,
      reasoning: "The user asks about the weather; call the tool first.",
      calls: [
        { name: "get_weather", args: { city: "San Francisco" }, output: JSON.stringify({ city: "San Francisco", weather: "cold" }) },
        { name: "get_weather", args: { city: "Paris" }, output: "sunny" },
      ],
      tokens: [400, 120],
      latencyMs: 900,
      tokenIds: true,
    }),
    rolloutLine({ task: 0, rep: 1, agent: TOOLS, reward: 0, text: "I do not know.", incomplete: true, tokens: [90, 4000], latencyMs: 4000 }),
  ];
  // Rollouts, then a torn last line (a writer cut in the middle of it).
  const a = jsonl([...mathLines(RUN_A), ...toolLines]);
  fs.writeFileSync(files.rollouts, a + JSON.stringify(rolloutLine({ task: 9, rep: 0, agent: MATH, reward: 1 })).slice(0, 80));
  fs.writeFileSync(
    files.failures,
    jsonl([
      failureLine(3, 3, MATH, "unavailable", "the resources server went away"),
      failureLine(4, undefined, MATH, "invalid_argument", "rollouts.jsonl:5: no responses_create_params"),
      // Superseded: its retry is in the rollouts file.
      failureLine(2, 1, MATH, "deadline_exceeded", "took too long"),
    ]),
  );
  fs.writeFileSync(files.b, jsonl(mathLines(RUN_B)));
  return files;
}

/** A rollouts file of `n` lines (4 repeats per task, rewards varied), written in one stream; returns its size. */
export async function writeBigFile(file: string, n: number): Promise<number> {
  const out = fs.createWriteStream(file);
  let size = 0;
  const template = JSON.stringify(rolloutLine({ task: 0, rep: 0, agent: MATH, reward: 0, text: "The answer is $x^2$ and more words to make the line a realistic size. ".repeat(3) }));
  for (let i = 0; i < n; i++) {
    const task = Math.floor(i / 4);
    const rep = i % 4;
    const reward = task % 3 === 0 ? 1 : task % 3 === 1 ? 0 : rep % 2;
    const line =
      template
        .replace('"_ng_task_index":0', `"_ng_task_index":${task}`)
        .replace('"_ng_rollout_index":0', `"_ng_rollout_index":${rep}`)
        .replace('"reward":0', `"reward":${reward}`)
        .replace('"total":50', `"total":${50 + (i % 997)}`) + "\n";
    size += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return size;
}
