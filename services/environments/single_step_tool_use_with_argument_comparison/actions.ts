// Actions, the shape both sides of a comparison take: the row's
// expected_action, and the model's response reduced to one by extractAction.
import type { JsonObject } from "@bufbuild/protobuf";
import { z } from "zod";
import { Role, type ContentPart, type Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { invalidInput } from "../../resources/environment.js";

// Unknown keys are allowed in rows and dropped from the verdict's expected_action, as pydantic does.
const functionCall = z.looseObject({
  type: z.literal("function_call"),
  name: z.string(),
  /** JSON text of the expected arguments. */
  arguments: z.string(),
});

export const expectedActionSchema = z.discriminatedUnion("type", [
  /** Any chat message earns full credit. */
  z.looseObject({ type: z.literal("message"), content: z.string() }),
  functionCall,
  /** Parallel calls, compared without regard to order. */
  z.looseObject({ type: z.literal("function_call_batch"), calls: z.array(functionCall).min(1) }),
]);

/** The row's own fields. */
export const taskSchema = z.looseObject({ expected_action: expectedActionSchema });

export interface FunctionCallAction {
  type: "function_call";
  name: string;
  arguments: string;
}
export interface FunctionCallBatchAction {
  type: "function_call_batch";
  calls: FunctionCallAction[];
}
export interface MessageAction {
  type: "message";
  content: string;
}
export type Action = MessageAction | FunctionCallAction | FunctionCallBatchAction;

const call = (c: { name: string; arguments: string }): FunctionCallAction => ({ type: "function_call", name: c.name, arguments: c.arguments });

/** The row's action with only its model's fields, in their order (NeMo Gym's model_dump). */
export function canonicalAction(raw: z.infer<typeof expectedActionSchema>): Action {
  switch (raw.type) {
    case "message":
      return { type: "message", content: raw.content };
    case "function_call":
      return call(raw);
    case "function_call_batch":
      return { type: "function_call_batch", calls: raw.calls.map(call) };
  }
}

export function actionJson(action: Action): JsonObject {
  return action.type === "function_call_batch" ? { type: action.type, calls: action.calls.map((c) => ({ ...c })) } : { ...action };
}

/** The calls an action stands for: none for a message, so one call and a batch share a path. */
export function toolCalls(action: Action): FunctionCallAction[] {
  if (action.type === "function_call_batch") return [...action.calls];
  if (action.type === "function_call") return [action];
  return [];
}

/**
 * The response as an action: its function calls (one is a call, several a
 * batch) go before any text; else the first output_text of the first
 * assistant message that has one; else null (no action).
 */
export function extractAction(response: Response): Action | null {
  const calls: FunctionCallAction[] = [];
  let text: string | undefined;
  response.output.forEach((item, i) => {
    const kind = item.kind;
    if (kind.case === "functionCall") {
      calls.push(call(kind.value));
    } else if (kind.case === "message" && kind.value.role === Role.ASSISTANT) {
      const where = `response.output[${i}].content`;
      const content = kind.value.content;
      if (content.case === "parts") {
        const kinds = new Set(content.value.parts.map(partKind));
        // NeMo Gym refuses such a message wherever it is (HTTP 422: neither an output nor an input message).
        if (kinds.has("other") || kinds.size > 1) throw invalidInput(where, "an assistant message's parts must be output_text and refusal parts");
        if (text !== undefined) return;
        // Input parts only: NeMo Gym reads an input message, and fails on its parts when it reaches it (HTTP 500).
        if (kinds.has("input")) throw invalidInput(where, "an assistant message's parts must be output_text and refusal parts, not input parts");
        for (const part of content.value.parts) {
          if (part.kind.case === "outputText") {
            text = part.kind.value.text;
            break;
          }
        }
      } else if (content.case === "text" && content.value !== "" && text === undefined) {
        // NeMo Gym walks the content as a list of parts and fails on a string when it reaches it (HTTP 500).
        throw invalidInput(where, "an assistant message's content must be a list of content parts, not a string");
      }
    }
  });
  if (calls.length === 1) return calls[0]!;
  if (calls.length > 1) return { type: "function_call_batch", calls };
  if (text !== undefined) return { type: "message", content: text };
  return null;
}

/** What NeMo Gym makes of a part of an assistant message: an output part, an input part, or neither. */
function partKind(part: ContentPart): "output" | "input" | "other" {
  switch (part.kind.case) {
    case "outputText":
    case "refusal":
      return "output";
    case "inputText":
      return "input";
    case "otherJson": {
      let type: unknown;
      try {
        type = (JSON.parse(part.kind.value) as { type?: unknown }).type;
      } catch {
        return "other";
      }
      return typeof type === "string" && type.startsWith("input_") ? "input" : "other";
    }
    default:
      return "other";
  }
}
