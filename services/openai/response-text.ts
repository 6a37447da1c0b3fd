// The text of a model response, as verifiers read it. Two readings exist in
// NeMo Gym, and differ on a message whose content is a plain string:
// `responseText` (NeMo Gym's extract_text) counts it, `outputText` (the
// OpenAI SDK's `response.output_text`, which mcqa and structured_outputs
// read) does not, since the SDK reads only `output_text` parts.
import { Role, type Item, type Response } from "../../gen/gymmesh/v1/responses_pb.js";

/** A message item's `output_text` parts, joined; "" for anything else. */
function partsText(item: Item): string {
  if (item.kind.case !== "message" || item.kind.value.content.case !== "parts") return "";
  return item.kind.value.content.value.parts.map((p) => (p.kind.case === "outputText" ? p.kind.value.text : "")).join("");
}

/** A message item's text: a plain-string content, or its output_text parts joined. */
export function messageItemText(item: Item): string {
  if (item.kind.case === "message" && item.kind.value.content.case === "text") return item.kind.value.content.value;
  return partsText(item);
}

/** All message text of the response, joined with nothing between (NeMo Gym's extract_text). */
export function responseText(response: Response): string {
  return response.output.map(messageItemText).join("");
}

/**
 * The OpenAI SDK's `response.output_text`: the text of every `output_text`
 * part of every message item (whatever its role), in order, joined with no
 * separator; refusals, reasoning, tool items and plain-string contents add nothing.
 */
export function outputText(response: Response): string {
  return response.output.map(partsText).join("");
}

/** The text of the last assistant message, or "" when there is none. */
export function lastAssistantText(response: Response): string {
  const last = [...response.output].reverse().find((i) => i.kind.case === "message" && i.kind.value.role === Role.ASSISTANT);
  return last ? messageItemText(last) : "";
}
