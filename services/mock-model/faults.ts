// The mock model's knobs: latency (fixed plus random), errors, stalls and
// connection resets, for tests and benchmarks. Rates are spread evenly over
// the requests rather than drawn at random (rate 0.5 fails every other
// request, the first one first), so a test or a benchmark sees exactly the
// configured rate and the same sequence every run.
import type { JsonObject } from "@bufbuild/protobuf";
import { isObject } from "../openai/backend.js";

export interface MockKnobs {
  /** Added to every answer. */
  latencyMs: number;
  /** Plus a uniformly random delay in [0, latencyJitterMs). */
  latencyJitterMs: number;
  /** Fraction of requests answered with `errorStatus`. */
  errorRate: number;
  errorStatus: number;
  /** Sent as `Retry-After` (seconds) with the errors. */
  retryAfterS?: number;
  /** Fraction of requests that get no answer for `stallMs` (0: until the client gives up). */
  stallRate: number;
  stallMs: number;
  /** Fraction of requests whose connection is reset (destroyed) without an answer. */
  resetRate: number;
  /** How the script shows reasoning: not at all, `<think>` text, or a `reasoning_content` field (Chat Completions). */
  reasoning: "none" | "think_tags" | "reasoning_content";
  /** Script: call every offered tool at once instead of the first one. */
  parallelToolCalls: boolean;
  /** Script: tool-calling turns before the text answer (0: answer at once). */
  toolTurns: number;
  /** Honour vLLM's token-id extensions (return_token_ids, return_tokens_as_token_ids); false acts like a server without them. */
  tokenIds: boolean;
  /** Script: probability that a conversation is answered without calling the offered tools (seeded, see random.ts). */
  skipToolRate: number;
  /** Script: probability that a conversation's text answer is wrong (WRONG_ANSWER: it does not say what the tool said). */
  wrongAnswerRate: number;
  /** Script: the seed of those draws when the request carries none (metadata.extra_body's or a top-level `seed`). */
  seed: number;
}

export const DEFAULT_KNOBS: MockKnobs = {
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  errorStatus: 500,
  stallRate: 0,
  stallMs: 0,
  resetRate: 0,
  reasoning: "none",
  parallelToolCalls: false,
  toolTurns: 1,
  tokenIds: true,
  skipToolRate: 0,
  wrongAnswerRate: 0,
  seed: 0,
};

const REASONING: MockKnobs["reasoning"][] = ["none", "think_tags", "reasoning_content"];

/** The header that overrides knobs for one request: a JSON object with the config's snake_case names. */
export const KNOBS_HEADER = "x-mock-knobs";

// Durations are in seconds there, as in every config; the knobs hold milliseconds.
const NAMES: Record<string, keyof MockKnobs> = {
  latency_s: "latencyMs",
  latency_jitter_s: "latencyJitterMs",
  error_rate: "errorRate",
  error_status: "errorStatus",
  retry_after_s: "retryAfterS",
  stall_rate: "stallRate",
  stall_s: "stallMs",
  reset_rate: "resetRate",
  reasoning: "reasoning",
  parallel_tool_calls: "parallelToolCalls",
  tool_turns: "toolTurns",
  token_ids: "tokenIds",
  skip_tool_rate: "skipToolRate",
  wrong_answer_rate: "wrongAnswerRate",
  seed: "seed",
};

/** Knobs from a header value; throws with what is wrong. */
export function knobsFromHeader(value: string, base: MockKnobs): MockKnobs {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new Error(`${KNOBS_HEADER}: not valid JSON`);
  }
  if (!isObject(json)) throw new Error(`${KNOBS_HEADER}: expected a JSON object`);
  const out: MockKnobs = { ...base };
  for (const [k, v] of Object.entries(json as JsonObject)) {
    const name = NAMES[k];
    if (!name) throw new Error(`${KNOBS_HEADER}: unknown knob "${k}" (known: ${Object.keys(NAMES).join(", ")})`);
    const expected = typeof DEFAULT_KNOBS[name];
    if (name === "retryAfterS" ? typeof v !== "number" : typeof v !== expected) throw new Error(`${KNOBS_HEADER}: ${k} has the wrong type`);
    if (name === "reasoning" && !REASONING.includes(v as MockKnobs["reasoning"])) throw new Error(`${KNOBS_HEADER}: reasoning must be one of ${REASONING.join(", ")}`);
    if (k.endsWith("_rate") && !((v as number) >= 0 && (v as number) <= 1)) throw new Error(`${KNOBS_HEADER}: ${k} must be between 0 and 1`);
    if (name === "seed" && !Number.isSafeInteger(v)) throw new Error(`${KNOBS_HEADER}: seed must be an integer`);
    (out as unknown as Record<string, unknown>)[name] = name.endsWith("Ms") ? (v as number) * 1000 : v;
  }
  return out;
}

/** Fires for exactly `rate` of the calls, evenly spread, starting with the first. */
export class EvenSpread {
  private n = 0;
  next(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    const before = Math.ceil(round(this.n * rate));
    this.n++;
    return Math.ceil(round(this.n * rate)) > before;
  }
}

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** Which fault a request gets, if any. One spread per fault kind. */
export class FaultPlan {
  private readonly resets = new EvenSpread();
  private readonly stalls = new EvenSpread();
  private readonly errors = new EvenSpread();

  pick(k: MockKnobs): "reset" | "stall" | "error" | undefined {
    if (this.resets.next(k.resetRate)) return "reset";
    if (this.stalls.next(k.stallRate)) return "stall";
    if (this.errors.next(k.errorRate)) return "error";
    return undefined;
  }
}

export function latencyOf(k: MockKnobs, random: () => number = Math.random): number {
  return k.latencyMs + (k.latencyJitterMs > 0 ? random() * k.latencyJitterMs : 0);
}
