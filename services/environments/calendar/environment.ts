// calendar, ported from NeMo Gym 0.7.0 (resources_servers/calendar): multi-turn
// calendar scheduling. The row carries the whole conversation (the user adds
// and moves events with time constraints, turn after turn); the model's last
// answer must print the calendar as a JSON list that meets every constraint
// of the row's exp_cal_state. No tools.
import { z } from "zod";
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { defineEnvironment, invalidInput, taskFields } from "../../resources/environment.js";
import { gradeAssistantResponse } from "./grading.js";

/** The row's own field, as NeMo Gym's CalendarVerifyRequest (pydantic) accepts it. */
export const calendarTaskSchema = z.looseObject({
  /**
   * Event id (as a string) -> {event_id, event_name, duration (minutes), constraint ("before 2pm",
   * "after 10:00", "between 10am and 12pm", "at 1:30pm" or null), min_time, max_time}. NeMo Gym types
   * it dict[str, Any]: a value of another shape is accepted and scores 0.
   */
  exp_cal_state: z.record(z.string(), z.unknown()),
});

/**
 * The text NeMo Gym grades: the first content part of the response's last
 * output item (`output[-1].content[0].text`), "" when that item has no
 * content (a function call, a reasoning item without reasoning text) or an
 * empty one. A reasoning item's first reasoning text counts, as in NeMo Gym.
 */
export function lastItemText(response: Response): string {
  const last = response.output.at(-1);
  if (!last) return "";
  const item = last.kind;
  if (item.case === "reasoning") return item.value.content[0]?.text ?? "";
  if (item.case !== "message") return "";
  const content = item.value.content;
  const where = `response.output[${response.output.length - 1}].content`;
  if (content.case === "text") {
    if (content.value === "") return "";
    // NeMo Gym reads content[0].text of the string, its first character: AttributeError (HTTP 500).
    throw invalidInput(where, "is a plain string; the calendar verifier reads the first content part's text (an output_text part)");
  }
  if (content.case !== "parts") return "";
  const first = content.value.parts[0];
  if (!first) return "";
  if (first.kind.case === "outputText") return first.kind.value.text;
  // A refusal is an answer without a calendar (NeMo Gym fails on its missing .text).
  if (first.kind.case === "refusal") return "";
  throw invalidInput(`${where}[0]`, "has no text to grade: the calendar verifier reads an output_text part");
}

const calendar = defineEnvironment({
  name: "calendar",
  description: "Multi-turn calendar scheduling: the last answer's JSON calendar must hold the expected events, without overlaps, each meeting its duration, time window and constraint",
  tools: [],
  taskSchema: calendarTaskSchema,
  verify: ({ task, response }) => {
    const expCalState = taskFields(task, calendarTaskSchema).exp_cal_state;
    const text = lastItemText(response);
    // Only thinking, a tool call or nothing at the end: no answer.
    if (text === "") return { reward: 0 };
    return { reward: gradeAssistantResponse(text, expCalState).reward };
  },
});

export default calendar;
