// STAND-IN: the script's seeded choices, so a GRPO group of rollouts of one
// task can differ offline (and so have non-zero advantages) while any rerun
// gives the same answers. Per conversation, two uniform draws decide
// whether the script skips the offered tools (skip_tool_rate) and whether its
// text answer is wrong (wrong_answer_rate).
//
// The seed is the request's: `seed` in the JSON text of
// `metadata.extra_body` (what NeMo Gym's `--num-repeats-add-seed` and
// `gym collect --num-repeats-add-seed` set), else a top-level `seed` field
// (Chat Completions has one), else the mock's `seed` knob. The conversation
// is what the policy was given, not what it made: the system, developer and
// user messages in order (tool outputs and the model's own turns left out),
// so every turn of one rollout draws the same. The PRNG: FNV-1a (32-bit) of
// the UTF-8 of JSON `[seed, ...messages]` seeds mulberry32 (a small,
// well-known 32-bit generator); its first draw is the skip, its second the
// wrong answer, whatever the rates are.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { isObject } from "../openai/backend.js";
import type { MockKnobs } from "./faults.js";

/** What the draws decided for one conversation. */
export interface ScriptDraws {
  /** Answer without calling the offered tools. */
  skipTool: boolean;
  /** Give WRONG_ANSWER as the text answer. */
  wrongAnswer: boolean;
}

/** What a wrong answer says: not what the tool said, nor anything a task expects. */
export const WRONG_ANSWER = "I did not check, so this is only a guess.";

/** The seed a request carries: `metadata.extra_body`'s (JSON text), else a top-level `seed`; numbers and strings only. */
export function requestSeed(body: JsonObject): number | string | undefined {
  const metadata = body.metadata;
  if (isObject(metadata) && typeof metadata.extra_body === "string") {
    let extra: unknown;
    try {
      extra = JSON.parse(metadata.extra_body);
    } catch {
      extra = undefined; // Not JSON: no seed there (NeMo Gym's vLLM server would fail; a stand-in need not).
    }
    if (isObject(extra) && isSeed(extra.seed)) return extra.seed;
  }
  return isSeed(body.seed) ? body.seed : undefined;
}

/** The draws for a conversation (its system, developer and user messages as `role: text`) under a seed. */
export function scriptDraws(seed: number | string, messages: readonly string[], knobs: Pick<MockKnobs, "skipToolRate" | "wrongAnswerRate">): ScriptDraws {
  if (knobs.skipToolRate <= 0 && knobs.wrongAnswerRate <= 0) return { skipTool: false, wrongAnswer: false };
  const next = mulberry32(fnv1a32(JSON.stringify([seed, ...messages])));
  const skip = next();
  const wrong = next();
  return { skipTool: skip < knobs.skipToolRate, wrongAnswer: wrong < knobs.wrongAnswerRate };
}

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: uniform numbers in [0, 1) from a 32-bit state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isSeed(v: JsonValue | undefined): v is number | string {
  return (typeof v === "number" && Number.isFinite(v)) || typeof v === "string";
}
