// The text of a model response, as verifiers read it.
import type { Item, Response } from "../../gen/gym/v1/responses_pb.js";

/** A message item's text: a plain-string content, or its output_text parts joined. */
export function messageItemText(item: Item): string {
  if (item.kind.case !== "message") return "";
  const content = item.kind.value.content;
  if (content.case === "text") return content.value;
  if (content.case !== "parts") return "";
  return content.value.parts.map((p) => (p.kind.case === "outputText" ? p.kind.value.text : "")).join("");
}

/** All message text of the response, joined with nothing between (NeMo Gym's extract_text). */
export function responseText(response: Response): string {
  return response.output.map(messageItemText).join("");
}

/** The text of the last assistant message, or "" when there is none. */
export function lastAssistantText(response: Response): string {
  const last = [...response.output].reverse().find((i) => i.kind.case === "message" && i.kind.value.role === "assistant");
  return last ? messageItemText(last) : "";
}
