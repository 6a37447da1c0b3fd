// The `mock_model` kind: the built-in OpenAI-compatible stand-in (a plain
// HTTP server), with scripted or replayed answers and fault knobs.
import * as path from "node:path";
import { z } from "zod";
import { ConfigError } from "../mesh/errors.js";
import { defineKind, port, seconds } from "../mesh/kind.js";
import { serve } from "../mesh/serve.js";
import { createMockModel } from "./mock-model.js";
import { ReplayBook } from "./replay.js";

const rate = z.number().min(0).max(1);

export const MockModelConfig = z.strictObject({
  kind: z.literal("mock_model"),
  port,
  /** Added to every answer, plus a random part in [0, latency_jitter_s). */
  latency_s: seconds().default(0),
  latency_jitter_s: seconds().default(0),
  /** Fraction of requests answered with error_status (spread evenly), with Retry-After when retry_after_s is set. */
  error_rate: rate.default(0),
  error_status: z.number().int().min(400).max(599).default(500),
  retry_after_s: seconds().optional(),
  /** Fraction of requests left unanswered for stall_s (0: until the client gives up). */
  stall_rate: rate.default(0),
  stall_s: seconds().default(0),
  /** Fraction of requests whose connection is reset without an answer. */
  reset_rate: rate.default(0),
  /** Script: reasoning as `<think>` text or a reasoning_content field (Chat Completions), or none. */
  reasoning: z.enum(["none", "think_tags", "reasoning_content"]).default("none"),
  /** Script: call every offered tool at once instead of the first. */
  parallel_tool_calls: z.boolean().default(false),
  /** Script: tool-calling turns before the text answer (0: answer at once). */
  tool_turns: z.number().int().min(0).default(1),
  /** Honour vLLM's token-id extensions (and `return_token_ids` on the Responses API); false acts like a server without them. */
  token_ids: z.boolean().default(true),
  /**
   * Script, offline RL: the probability that a conversation is answered without calling the offered tools
   * (a tool_choice that forces a call is obeyed). Drawn per conversation and seed (random.ts).
   */
  skip_tool_rate: rate.default(0),
  /** Script, offline RL: the probability that the text answer is wrong (it does not say what the tool said). */
  wrong_answer_rate: rate.default(0),
  /** The seed of those draws for a request that carries none (in metadata.extra_body, as --num-repeats-add-seed sets, or `seed`). */
  seed: z.number().int().default(0),
  /** Answer from rollouts a real model recorded (NeMo Gym's example_rollouts.jsonl). */
  replay: z
    .strictObject({
      /** Rollout files, relative to the config file. */
      files: z.array(z.string().min(1)).min(1),
      /** A conversation no recording starts with: "error" (404) or "script" (the scripted mock answers). */
      unknown: z.enum(["error", "script"]).default("error"),
    })
    .optional(),
});
export type MockModelConfig = z.infer<typeof MockModelConfig>;

export const mockModelKind = defineKind<MockModelConfig>({
  kind: "mock_model",
  schema: MockModelConfig,
  label: (c) => (c.replay ? "mock OpenAI HTTP (replays recorded rollouts)" : "mock OpenAI HTTP (stand-in)"),
  check(c, { dir }) {
    if (c.replay) c.replay.files = c.replay.files.map((f) => path.resolve(dir, f));
  },
  async start(c, ctx) {
    let replay: ReplayBook | undefined;
    if (c.replay) {
      try {
        replay = ReplayBook.fromFiles(c.replay.files);
      } catch (err) {
        throw new ConfigError(`instances.${ctx.name}.replay: ${(err as Error).message}`);
      }
    }
    const mock = createMockModel({
      knobs: {
        latencyMs: c.latency_s * 1000,
        latencyJitterMs: c.latency_jitter_s * 1000,
        errorRate: c.error_rate,
        errorStatus: c.error_status,
        retryAfterS: c.retry_after_s,
        stallRate: c.stall_rate,
        stallMs: c.stall_s * 1000,
        resetRate: c.reset_rate,
        reasoning: c.reasoning,
        parallelToolCalls: c.parallel_tool_calls,
        toolTurns: c.tool_turns,
        tokenIds: c.token_ids,
        skipToolRate: c.skip_tool_rate,
        wrongAnswerRate: c.wrong_answer_rate,
        seed: c.seed,
      },
      replay,
      unknown: c.replay?.unknown,
    });
    // A plain HTTP server: no gRPC services, so no grpc-js port.
    return serve({ name: ctx.name, host: ctx.host, port: ctx.port, limits: ctx.limits, services: [], fallback: mock.handler });
  },
});
