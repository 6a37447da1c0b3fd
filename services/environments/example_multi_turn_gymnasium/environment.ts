// example_multi_turn_gymnasium, ported from NeMo Gym: a scripted multi-turn
// conversation. After each model turn, Step answers with the row's next
// follow_ups message (reward 0, episode goes on); after the last one it ends
// the episode with reward 1 when the row's expected_answer appears (case
// insensitive) in the model's final turn, else 0.
import type { JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";
import { defineEnvironment, invalidInput, verifyByStepOnly } from "../../resources/environment.js";
import { responseText } from "../../openai/response-text.js";
import { taskExtra } from "../../openai/responses-json.js";

const NAME = "example_multi_turn_gymnasium";

interface Turns {
  turn: number;
}

/** The row's follow_ups, indexable as Python indexes them (a string goes character by character). */
function followUps(value: JsonValue | undefined): JsonValue[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return [...value];
  throw invalidInput("task.follow_ups", `must be a list of messages, got ${JSON.stringify(value)}`);
}

const exampleMultiTurnGymnasium = defineEnvironment<Turns>({
  name: NAME,
  description: "Multi-turn (gymnasium-style): scripted follow-up questions, then a check of the final answer",
  tools: [],
  taskSchema: z.object({ follow_ups: z.array(z.string()).optional(), expected_answer: z.string().optional() }),
  createState: () => ({ turn: 0 }),
  reset: () => ({}),
  step: ({ task, response, state }) => {
    const metadata = taskExtra(task);
    const script = followUps(metadata.follow_ups);
    if (state.turn < script.length) {
      const next = script[state.turn];
      if (typeof next !== "string") throw invalidInput(`task.follow_ups[${state.turn}]`, `must be a string, got ${JSON.stringify(next)}`);
      state.turn++;
      return { observation: next, reward: 0, terminated: false, truncated: false };
    }
    const expected = metadata.expected_answer ?? "";
    // Python's `expected and ...`: an empty (falsy) answer never matches.
    if (!isTruthy(expected)) return { reward: 0, terminated: true, truncated: false };
    if (typeof expected !== "string") throw invalidInput("task.expected_answer", `must be a string, got ${JSON.stringify(expected)}`);
    const hit = responseText(response).toLowerCase().includes(expected.toLowerCase());
    return { reward: hit ? 1 : 0, terminated: true, truncated: false };
  },
  verify: verifyByStepOnly(NAME),
});

function isTruthy(v: JsonValue): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

export default exampleMultiTurnGymnasium;
