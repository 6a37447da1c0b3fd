// The release's LLM judge (prompts adapted from Arena Hard): asked whether the
// expected and the generated answer are equivalent, in both orders, through a
// model instance of the mesh.
import type { JsonObject } from "@bufbuild/protobuf";
import type { ModelClient } from "../../resources/environment.js";
import { paramsFromJson, responseToJson } from "../../openai/responses-json.js";
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";

export const JUDGE_SYSTEM_MESSAGE = `Please act as an impartial judge and evaluate the equivalence of the solutions given by two AI assistants to the mathematical problem displayed below. You will be given AI assistant A's answer and AI assistant B's answer. Your job is to evaluate whether assistant A's answer is equivalent to assistant B's answer.

Consider the mathematical equivalence of the AI assistants' answers above all other considerations. If the problem requests special formatting instructions, you may disregard any formatting considerations when evaluating the answers -- consider only mathematical equivalence.

After evaluating both answers for equivalence, you must output only one of the following choices as your final verdict with a label:

1.  The AI assistants' answers are equivalent: [[A=B]]
2.  The AI assistants' answers are different: [[A!=B]]

Example output: "My final verdict is different [[A!=B]]".`;

export const JUDGE_EQUAL_LABEL = "[[A=B]]";
export const JUDGE_NOT_EQUAL_LABEL = "[[A!=B]]";

export function judgePrompt(question: string, firstAnswer: string, secondAnswer: string): string {
  return `<|Problem|>\n${question}\n\n<|Start of Assistant A's Answer|>\n${firstAnswer}\n<|End of Assistant A's Answer|>\n\n<|Start of Assistant B's Answer|>\n${secondAnswer}\n<|End of Assistant B's Answer|>`;
}

/**
 * The judge's verdict: equal only when the last output item is a message whose
 * last part is text holding [[A=B]] before any [[A!=B]]; anything else counts
 * as "not equal", as in the release.
 */
export function judgeSaysEqual(response: Response): boolean {
  const last = response.output[response.output.length - 1];
  if (!last || last.kind.case !== "message" || last.kind.value.content.case !== "parts") return false;
  const parts = last.kind.value.content.value.parts;
  const part = parts[parts.length - 1];
  if (!part || part.kind.case !== "outputText") return false;
  const text = part.kind.value.text;
  const equal = text.indexOf(JUDGE_EQUAL_LABEL);
  const notEqual = text.indexOf(JUDGE_NOT_EQUAL_LABEL);
  return equal >= 0 && (notEqual < 0 || equal < notEqual);
}

export interface JudgeEvaluation extends JsonObject {
  responses_create_params: JsonObject;
  response: JsonObject;
}

async function evaluate(judge: ModelClient, baseParams: JsonObject, question: string, first: string, second: string): Promise<[boolean, JudgeEvaluation]> {
  const params: JsonObject = {
    ...(structuredClone(baseParams) as JsonObject),
    input: [
      { role: "system", content: JUDGE_SYSTEM_MESSAGE },
      { role: "user", content: judgePrompt(question, first, second) },
    ],
  };
  const { response } = await judge.createResponse({ params: paramsFromJson(params, "judge_responses_create_params") });
  if (!response) throw new Error("the judge model answered without a response");
  return [judgeSaysEqual(response), { responses_create_params: params, response: responseToJson(response) }];
}

/** 1.0 when the judge finds the answers equal in both orders; the second order is asked only after a first "equal". */
export async function judgeReward(judge: ModelClient, baseParams: JsonObject, question: string, expected: string, generated: string): Promise<[number, JudgeEvaluation[]]> {
  const [firstEqual, first] = await evaluate(judge, baseParams, question, expected, generated);
  if (!firstEqual) return [0, [first]];
  const [secondEqual, second] = await evaluate(judge, baseParams, question, generated, expected);
  return [secondEqual ? 1 : 0, [first, second]];
}
