// math_with_judge, ported from NeMo Gym 0.7.0: a math answer in the last
// \boxed{} of the response, checked against the row's expected_answer by a
// math-verify style library verifier and, optionally, an LLM judge (asked in
// both orders) when the library does not find them equal.
import type { JsonObject } from "@bufbuild/protobuf";
import { z } from "zod";
import { outputText } from "../../openai/response-text.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { defineEnvironment, taskFields } from "../../resources/environment.js";
import { judgeReward, type JudgeEvaluation } from "./judge.js";
import { extractLastBoxedAnswer, runMathVerify } from "./library.js";

/** NeMo Gym's server config fields (its configs/math_with_judge.yaml: no judge by default). */
export const mathWithJudgeSettings = z.strictObject({
  /** The model instance that judges (NeMo Gym's ModelServerRef; only `name` is used here). */
  judge_model_server: z
    .strictObject({ type: z.literal("responses_api_models").optional(), name: z.string().min(1) })
    .default({ type: "responses_api_models", name: "policy_model" }),
  /** The judge's request params; its `input` is replaced by the judge prompt. */
  judge_responses_create_params: z.record(z.string(), z.unknown()).default({ input: [] }),
  should_use_judge: z.boolean().default(false),
  /** Accepted for NeMo Gym configs; the library verifier here runs in-process (see README). */
  library_verifier_timeout_seconds: z.number().positive().default(10),
  library_verifier_max_concurrency: z.number().int().positive().default(32),
});
export type MathWithJudgeSettings = z.infer<typeof mathWithJudgeSettings>;

/** The row's own fields, as the release's verify request model (pydantic `str`) accepts them. */
export const mathWithJudgeTaskSchema = z.looseObject({
  question: z.string(),
  expected_answer: z.string(),
});

export interface MathVerdict {
  reward: number;
  extractedAnswer: string | null;
  libraryReward: number;
  judgeEvaluations: JudgeEvaluation[] | null;
}

/** The release's `_verify_answer`; `judge` is called only when the settings ask for it and the library says "not equal". */
export async function verifyAnswer(
  question: string,
  expected: string,
  generated: string,
  judge?: (boxed: string) => Promise<[number, JudgeEvaluation[]]>,
): Promise<MathVerdict> {
  const boxed = extractLastBoxedAnswer(generated);
  if (boxed === null || !boxed.trim()) return { reward: 0, extractedAnswer: null, libraryReward: 0, judgeEvaluations: null };
  const { libraryReward, extractedAnswer } = runMathVerify(expected, generated);
  if (!judge || libraryReward > 0.5) return { reward: libraryReward, extractedAnswer, libraryReward, judgeEvaluations: null };
  const [reward, judgeEvaluations] = await judge(boxed);
  return { reward, extractedAnswer, libraryReward, judgeEvaluations };
}

const mathWithJudge = defineEnvironment<undefined, MathWithJudgeSettings>({
  name: "math_with_judge",
  description: "Math problems: the last \\boxed{} answer checked with math-verify rules, optionally an LLM judge (NeMo Gym 0.7.0).",
  tools: [],
  settings: mathWithJudgeSettings,
  taskSchema: mathWithJudgeTaskSchema,
  models: (s) => (s.should_use_judge ? [{ field: "judge_model_server.name", name: s.judge_model_server.name }] : []),
  async verify({ task, response, settings, model }) {
    const row = taskFields(task, mathWithJudgeTaskSchema);
    let judge: ((boxed: string) => Promise<[number, JudgeEvaluation[]]>) | undefined;
    if (settings.should_use_judge) {
      const params = settings.judge_responses_create_params as JsonObject;
      judge = (boxed) => {
        // only reached when the library says "not equal", as the release calls its judge server only then
        if (!model) throw new ConnectError(`math_with_judge: the judge model "${settings.judge_model_server.name}" cannot be reached from this host`, Code.FailedPrecondition);
        return judgeReward(model(settings.judge_model_server.name), params, row.question, row.expected_answer, boxed);
      };
    }
    const v = await verifyAnswer(row.question, row.expected_answer, outputText(response), judge);
    return {
      reward: v.reward,
      extra: {
        expected_answer: row.expected_answer,
        extracted_answer: v.extractedAnswer,
        library_reward: v.libraryReward,
        judge_evaluations: v.judgeEvaluations,
      },
    };
  },
});

export default mathWithJudge;
