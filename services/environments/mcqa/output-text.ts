// The model's answer text as NeMo Gym's mcqa verifier reads it:
// `response.output_text` of the OpenAI SDK, i.e. the text of every
// `output_text` part of every `message` output item, in order, joined with no
// separator. Every message counts whatever its role (and so does every
// message, not only the last); refusals, reasoning and tool items do not. A
// message whose content is a plain string has no parts: the SDK fails on it,
// here it contributes nothing.
import type { Response } from "../../../gen/gym/v1/responses_pb.js";

export function outputText(response: Response): string {
  let text = "";
  for (const item of response.output) {
    if (item.kind.case !== "message" || item.kind.value.content.case !== "parts") continue;
    for (const part of item.kind.value.content.value.parts) {
      if (part.kind.case === "outputText") text += part.kind.value.text;
    }
  }
  return text;
}
