// The model's move, read from its text as NeMo Gym 0.7.0's grl_sokoban reads
// it: the first `<action>...</action>` tag, else the first bare word (up,
// down, left, right, or a digit 1-4), with Python's `re` (IGNORECASE, Unicode
// word boundaries) on the response text stripped as Python's str.strip().
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { responseText } from "../../openai/response-text.js";
import { PythonRegex } from "../../pycompat/regex.js";
import { pyReprString, pyStrip } from "../../pycompat/str.js";
import { invalidInput } from "../../resources/environment.js";

const ACTION_TAG = new PythonRegex(String.raw`<action>\s*(up|down|left|right|[1-4])\s*</action>`, { ignoreCase: true });
const ACTION_WORD = new PythonRegex(String.raw`\b(up|down|left|right|[1-4])\b`, { ignoreCase: true });

/**
 * The action id the response names, looked up in `actions` (id -> label) as
 * the release does: a digit by id, a word by its label (case-insensitive; a
 * later id wins a label two ids share). INVALID_ARGUMENT with the release's
 * message when there is none.
 */
export function parseAction(response: Response, actions: ReadonlyMap<number, string>): number {
  const text = pyStrip(responseText(response));
  const match = ACTION_TAG.search(text) ?? ACTION_WORD.search(text);
  if (!match) throw invalidInput("response", `Unable to parse action from response: ${pyReprString(text)}`);
  const token = pyStrip(match[1]!);
  if (/^[1-4]$/.test(token)) {
    const id = Number(token);
    if (actions.has(id)) return id;
    throw invalidInput("response", `Invalid action identifier: ${id}`);
  }
  const byLabel = new Map<string, number>();
  for (const [id, label] of actions) byLabel.set(label.toLowerCase(), id);
  const id = byLabel.get(token.toLowerCase());
  if (id === undefined) throw invalidInput("response", `Invalid action identifier: ${token}`);
  return id;
}
