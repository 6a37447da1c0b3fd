// single_step_tool_use_with_argument_comparison, ported from NeMo Gym 0.7.0:
// one step of an expert trajectory (behaviour cloning). The model either
// makes the expected tool call(s) or sends a chat message; its calls are
// compared with the row's expected_action by name and by argument values
// (word overlap for longer strings), never run.
import { z } from "zod";
import { defineEnvironment, taskFields } from "../../resources/environment.js";
import { actionJson, canonicalAction, extractAction, taskSchema } from "./actions.js";
import { Category, compareAction, REWARD_MODES, type ComparatorConfig } from "./comparator.js";

/** NeMo Gym's tool_call_comparator_config. */
const comparatorConfig = z.strictObject({
  /** Strings of two words or more match when their word overlap reaches this (0.1 in NeMo Gym's default config; at most 0.5 is reachable). */
  word_count_similarity_threshold: z.number(),
  /** Floats match when they differ by less than this. */
  floating_point_comparison_threshold: z.number().default(1e-6),
  /** Master switch: whether the number of calls counts (off: surplus calls are free, the three below are not read). */
  parallel_tool_call_rewarding: z.boolean().default(false),
  /** Admit responses with fewer calls than expected. */
  allow_subset: z.boolean().default(false),
  /** Admit responses with more calls than expected. */
  allow_superset: z.boolean().default(false),
  /** binary_strict: all required calls or 0; fractional: the matched share; f1: 2 * matched / (expected + actual). */
  parallel_tool_call_reward_mode: z.enum(REWARD_MODES).default("binary_strict"),
});

/** The server's config fields. The default is NeMo Gym's configs/single_step_tool_use_with_argument_comparison.yaml. */
export const settingsSchema = z.strictObject({
  tool_call_comparator_config: comparatorConfig.default({
    word_count_similarity_threshold: 0.1,
    floating_point_comparison_threshold: 1e-6,
    parallel_tool_call_rewarding: false,
    allow_subset: false,
    allow_superset: false,
    parallel_tool_call_reward_mode: "binary_strict",
  }),
});
export type Settings = z.infer<typeof settingsSchema>;

const singleStepToolUse = defineEnvironment<undefined, Settings>({
  name: "single_step_tool_use_with_argument_comparison",
  description: "One step of an expert trajectory: the expected tool call(s), compared by name and arguments, or a chat message",
  // The row's tools are offered to the model and never run: its calls are only compared.
  tools: [],
  simulatedTools: true,
  taskSchema,
  settings: settingsSchema,
  verify: ({ task, response, settings }) => {
    const expected = canonicalAction(taskFields(task, taskSchema).expected_action);
    const actual = extractAction(response);
    const config: ComparatorConfig = settings.tool_call_comparator_config;
    const { reward, category } = actual === null ? { reward: 0, category: Category.NO_ACTION_FOUND } : compareAction(config, expected, actual);
    return { reward, extra: { expected_action: actionJson(expected), category } };
  },
});

export default singleStepToolUse;
