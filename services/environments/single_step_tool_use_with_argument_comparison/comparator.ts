// The comparison of an expected action with the model's: NeMo Gym 0.7.0's
// ActionComparator. Arguments are compared as the JSON values Python's
// json.loads makes (int vs float, bool as an int, dict key order), so they
// are parsed with pyJsonLoadsTyped rather than JSON.parse.
import { invalidInput } from "../../resources/environment.js";
import { JSONDecodeError, pyJsonLoadsTyped, type PyJson } from "../../pycompat/json-loads.js";
import { pySplit, pyStrip } from "../../pycompat/str.js";
import { toolCalls, type Action, type FunctionCallAction } from "./actions.js";

/** NeMo Gym's StepRewardCategory values (the verdict's `category`). */
export const Category = {
  NO_ACTION_FOUND: "No tool call or chat message was found in the response",
  NO_EXPECTED_TOOL_CALL: "No tool call was found when one was expected",
  EXPECTED_CHAT_MESSAGE_FOUND: "A chat message was found as expected",
  NO_EXPECTED_CHAT_MESSAGE: "A tool call was executed when a chat message was expected",
  UNEXPECTED_TOOL: "The tool in a tool call is not the expected tool",
  ARGUMENTS_DECODE_ERROR: "An error occurred when decoding the arguments string in a tool call as a JSON object",
  ARGUMENT_VALUE_TYPE_DIFFERENT: "The type of an argument value in a tool call is different than the expected type",
  ARGUMENT_OBJECT_KEYS_DIFFERENT: "The keys in an object in an argument value in a tool call are different than the keys in the expected object",
  ARGUMENT_LIST_LENGTH_DIFFERENT: "A list in an argument value in a tool call has a different length than the expected list",
  ARGUMENT_VALUE_DIFFERENT: "An argument value in a tool call is different than the expected value",
  EXPECTED_TOOL_CALL: "A tool call that matches the expected tool call was found",
  FUNCTION_CALL_BATCH_LENGTH_DIFFERENT: "The number of tool calls in a batch is different than expected",
  EXPECTED_TOOL_CALL_BATCH: "A tool-call batch that matches the expected tool calls was found",
} as const;
export type Category = (typeof Category)[keyof typeof Category];

export const REWARD_MODES = ["binary_strict", "fractional", "f1"] as const;

/** NeMo Gym's ToolCallComparatorConfig. */
export interface ComparatorConfig {
  word_count_similarity_threshold: number;
  floating_point_comparison_threshold: number;
  /** Whether the number of calls is part of the verdict at all (off: surplus calls are free). */
  parallel_tool_call_rewarding: boolean;
  allow_subset: boolean;
  allow_superset: boolean;
  parallel_tool_call_reward_mode: (typeof REWARD_MODES)[number];
}

export interface Comparison {
  reward: number;
  category: Category;
}

export function compareAction(config: ComparatorConfig, expected: Action, actual: Action): Comparison {
  if (expected.type === "message") {
    // Any chat message earns full credit.
    return actual.type === "message" ? { reward: 1, category: Category.EXPECTED_CHAT_MESSAGE_FOUND } : { reward: 0, category: Category.NO_EXPECTED_CHAT_MESSAGE };
  }
  if (actual.type === "message") return { reward: 0, category: Category.NO_EXPECTED_TOOL_CALL };
  return compareToolCalls(config, toolCalls(expected), toolCalls(actual));
}

/** Sets of calls, in any order: a gate on their number, then a maximum matching scored by the reward mode. */
export function compareToolCalls(config: ComparatorConfig, expected: FunctionCallAction[], actual: FunctionCallAction[]): Comparison {
  const e = expected.length;
  const a = actual.length;
  // One against one keeps the single-call categories.
  if (e === 1 && a === 1) return compareToolCall(config, expected[0]!, actual[0]!);
  if (!callCountAdmissible(config, e, a)) return { reward: 0, category: Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT };

  const candidates: number[][] = [];
  const failures: Category[] = [];
  for (const want of expected) {
    const matches: number[] = [];
    let failure: Category = Category.UNEXPECTED_TOOL;
    actual.forEach((got, j) => {
      const result = compareToolCall(config, want, got);
      if (result.reward === 1) matches.push(j);
      // The first reason that got past the tool name explains the closest miss.
      else if (failure === Category.UNEXPECTED_TOOL) failure = result.category;
    });
    candidates.push(matches);
    failures.push(failure);
  }
  const matching = findMaximumMatching(candidates);
  const reward = scoreMatchedCalls(config, matching.size, e, a);
  if (reward === 1) return { reward, category: e === 1 ? Category.EXPECTED_TOOL_CALL : Category.EXPECTED_TOOL_CALL_BATCH };

  const matched = new Set(matching.values());
  const unmatched = expected.map((_, i) => i).filter((i) => !matched.has(i));
  // Only surplus calls left, or only missing ones: the count is the defect, not an argument.
  if (unmatched.length === 0 || matched.size === a) return { reward, category: Category.FUNCTION_CALL_BATCH_LENGTH_DIFFERENT };
  return { reward, category: failures[unmatched[0]!]! };
}

function callCountAdmissible(config: ComparatorConfig, e: number, a: number): boolean {
  if (a === e || !config.parallel_tool_call_rewarding) return true;
  return a < e ? config.allow_subset : config.allow_superset;
}

function scoreMatchedCalls(config: ComparatorConfig, matched: number, e: number, a: number): number {
  if (!config.parallel_tool_call_rewarding) return matched === e ? 1 : 0;
  if (config.parallel_tool_call_reward_mode === "f1") {
    const total = e + a;
    return total ? (2 * matched) / total : 0;
  }
  const required = config.allow_subset ? Math.min(e, a) : e;
  if (config.parallel_tool_call_reward_mode === "fractional") return required ? matched / required : 0;
  return matched === required ? 1 : 0;
}

/**
 * Maximum bipartite matching (Kuhn's algorithm), as NeMo Gym runs it: expected
 * calls with fewer candidates first (a stable sort), augmenting paths in
 * candidate order. Maps an actual call's index to its expected call's; which
 * expected calls stay unmatched decides the failure category, so the order matters.
 */
export function findMaximumMatching(candidates: number[][]): Map<number, number> {
  const matching = new Map<number, number>();
  const order = candidates.map((_, i) => i).sort((x, y) => candidates[x]!.length - candidates[y]!.length);
  const augment = (exp: number, visited: Set<number>): boolean => {
    for (const act of candidates[exp]!) {
      if (visited.has(act)) continue;
      visited.add(act);
      const holder = matching.get(act);
      if (holder === undefined || augment(holder, visited)) {
        matching.set(act, exp);
        return true;
      }
    }
    return false;
  };
  for (const exp of order) augment(exp, new Set());
  return matching;
}

export function compareToolCall(config: ComparatorConfig, expected: FunctionCallAction, actual: FunctionCallAction): Comparison {
  if (expected.name !== actual.name) return { reward: 0, category: Category.UNEXPECTED_TOOL };
  // NeMo Gym decodes the expected arguments first and fails (HTTP 500) when they are not JSON.
  let want: PyJson;
  try {
    want = pyJsonLoadsTyped(expected.arguments);
  } catch (err) {
    throw invalidInput("task.expected_action.arguments", `not valid JSON (${(err as Error).message}): ${JSON.stringify(expected.arguments.slice(0, 200))}`);
  }
  let got: PyJson;
  try {
    got = pyJsonLoadsTyped(actual.arguments);
  } catch (err) {
    if (err instanceof JSONDecodeError) return { reward: 0, category: Category.ARGUMENTS_DECODE_ERROR };
    throw err;
  }
  const miss = compareArguments(config, want, got);
  return miss === null ? { reward: 1, category: Category.EXPECTED_TOOL_CALL } : { reward: 0, category: miss };
}

type PyType = "dict" | "list" | "str" | "int" | "float" | "bool" | "NoneType";

function pyType(v: PyJson): PyType {
  if (v === null) return "NoneType";
  if (v instanceof Map) return "dict";
  if (Array.isArray(v)) return "list";
  switch (typeof v) {
    case "string":
      return "str";
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
    default:
      return "float";
  }
}

/** `isinstance(actual, type(expected))`: a bool is also an int. */
function sameType(expected: PyType, actual: PyType): boolean {
  return expected === actual || (expected === "int" && actual === "bool");
}

/** Why the arguments differ (the first difference, in the expected value's order), or null when they match. */
export function compareArguments(config: ComparatorConfig, expected: PyJson, actual: PyJson): Category | null {
  const type = pyType(expected);
  if (!sameType(type, pyType(actual))) return Category.ARGUMENT_VALUE_TYPE_DIFFERENT;
  switch (type) {
    case "dict": {
      const want = expected as Map<string, PyJson>;
      const got = actual as Map<string, PyJson>;
      if (want.size !== got.size || [...want.keys()].some((k) => !got.has(k))) return Category.ARGUMENT_OBJECT_KEYS_DIFFERENT;
      for (const [k, v] of want) {
        const miss = compareArguments(config, v, got.get(k)!);
        if (miss) return miss;
      }
      return null;
    }
    case "list": {
      const want = expected as PyJson[];
      const got = actual as PyJson[];
      if (want.length !== got.length) return Category.ARGUMENT_LIST_LENGTH_DIFFERENT;
      for (let i = 0; i < want.length; i++) {
        const miss = compareArguments(config, want[i]!, got[i]!);
        if (miss) return miss;
      }
      return null;
    }
    case "float":
      // NaN, and an infinity against itself (inf - inf is NaN), never match, as in Python.
      return Math.abs((actual as number) - (expected as number)) < config.floating_point_comparison_threshold ? null : Category.ARGUMENT_VALUE_DIFFERENT;
    case "str":
      return stringsMatch(config, expected as string, actual as string) ? null : Category.ARGUMENT_VALUE_DIFFERENT;
    case "int": {
      const got = typeof actual === "boolean" ? BigInt(actual) : (actual as bigint);
      return got === expected ? null : Category.ARGUMENT_VALUE_DIFFERENT;
    }
    default:
      return expected === actual ? null : Category.ARGUMENT_VALUE_DIFFERENT;
  }
}

/**
 * Strings of two words or more on both sides match when their lowercased word
 * counts overlap enough: |common words| / (words expected + words given) is at
 * least word_count_similarity_threshold (at most 0.5, for equal texts). A
 * shorter string on either side must be exactly the same text.
 */
export function stringsMatch(config: ComparatorConfig, expected: string, actual: string): boolean {
  const want = wordCounts(expected);
  const got = wordCounts(actual);
  if (want.total < 2 || got.total < 2) return expected === actual;
  let common = 0;
  for (const [word, n] of want.counts) common += Math.min(n, got.counts.get(word) ?? 0);
  return !(common / (want.total + got.total) < config.word_count_similarity_threshold);
}

/** Counter(s.strip().lower().split()) and its total. */
function wordCounts(s: string): { counts: Map<string, number>; total: number } {
  const counts = new Map<string, number>();
  const words = pySplit(pyStrip(s).toLowerCase());
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return { counts, total: words.length };
}
