// The replay model: answers with what a real model answered. It reads
// rollout files (NeMo Gym's `example_rollouts.jsonl`: the request, the full
// response of a real model, the reward) and cuts each recorded trajectory
// into steps: step k's request is the task input plus the output items
// before it, and its answer is the model's items up to the next tool output
// (the items between two tool outputs; a user message in the output, the
// observation gymnasium_agent adds, cuts the same way). A request is matched on what the
// model saw: the tools offered (name, description, parameters), messages by
// role and text, function calls by name and arguments, tool outputs by their
// text (JSON compared by value); ids,
// statuses, reasoning items, token data and settings (seed, temperature...)
// do not count, since they differ between runs without changing what the
// model saw. When two recordings answer the same step, the first one wins.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { isObject } from "../openai/backend.js";

export type ReplayAnswer =
  | { kind: "hit"; response: JsonObject; source: string }
  /** No recording starts with this conversation's input. */
  | { kind: "unknown"; message: string }
  /** A recording starts like this conversation but the conversation went elsewhere. */
  | { kind: "diverged"; message: string };

interface Recording {
  source: string;
  /** The task input's entries (what every step of this recording starts with). */
  base: string[];
  /** Input and every output item, as entries. */
  full: string[];
}

export class ReplayBook {
  private readonly steps = new Map<string, { response: JsonObject; source: string }>();
  private readonly recordings: Recording[] = [];

  constructor(private readonly label = "the recorded rollouts") {}

  /** Reads rollout files; rows without a `response` are skipped, unreadable ones are errors. */
  static fromFiles(files: readonly string[]): ReplayBook {
    const book = new ReplayBook(files.map((f) => path.basename(f)).join(", "));
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (err) {
        throw new Error(`replay file ${file}: cannot read: ${(err as Error).message}`);
      }
      const before = book.recordings.length;
      text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        let row: unknown;
        try {
          row = JSON.parse(line);
        } catch (err) {
          throw new Error(`replay file ${file}:${i + 1}: not valid JSON: ${(err as Error).message}`);
        }
        if (isObject(row) && isObject(row.responses_create_params) && isObject(row.response)) {
          book.add(row.responses_create_params, row.response, `${path.basename(file)}:${i + 1}`);
        }
      });
      if (book.recordings.length === before) {
        throw new Error(`replay file ${file}: no rows with "responses_create_params" and "response" (is it a rollouts file?)`);
      }
    }
    return book;
  }

  /** Adds one recorded rollout: the request and the model's full response. */
  add(params: JsonObject, response: JsonObject, source: string): void {
    const base = conversationEntries(params);
    const output = (Array.isArray(response.output) ? response.output : []).filter(isObject);
    const full = [...base, ...output.flatMap(itemEntries)];
    this.recordings.push({ source, base, full });

    let i = 0;
    while (i < output.length) {
      if (fromAgent(output[i]!)) {
        i++;
        continue;
      }
      const start = i;
      while (i < output.length && !fromAgent(output[i]!)) i++;
      const request = [...base, ...output.slice(0, start).flatMap(itemEntries)];
      const key = keyOf(request);
      if (this.steps.has(key)) continue;
      const step: JsonObject = { ...response, output: output.slice(start, i) };
      // The recorded usage covers the whole trajectory: it goes with the last step, so a rollout's sum is the recorded one.
      if (i < output.length) delete step.usage;
      this.steps.set(key, { response: step, source });
    }
  }

  get size(): number {
    return this.recordings.length;
  }

  /** The recorded answer to a Responses request, or why there is none. */
  answer(params: JsonObject): ReplayAnswer {
    const entries = conversationEntries(params);
    const hit = this.steps.get(keyOf(entries));
    if (hit) return { kind: "hit", response: structuredClone(hit.response), source: hit.source };

    let best: { rec: Recording; common: number } | undefined;
    for (const rec of this.recordings) {
      if (!startsWith(entries, rec.base)) continue;
      let common = rec.base.length;
      while (common < entries.length && common < rec.full.length && entries[common] === rec.full[common]) common++;
      if (!best || common > best.common) best = { rec, common };
    }
    if (!best) {
      const first = entries.find((e) => e.startsWith('["message"')) ?? entries[0];
      return { kind: "unknown", message: `replay: this conversation is not in ${this.label} (it starts with ${show(first)})` };
    }
    const { rec, common } = best;
    const got = common < entries.length ? show(entries[common]) : "nothing more";
    const recorded = common < rec.full.length ? show(rec.full[common]) : "nothing more";
    return {
      kind: "diverged",
      message: `replay: no recorded step matches this conversation: it follows ${rec.source} for ${common} entries (tools, messages, calls, outputs), then has ${got} where the recording has ${recorded}`,
    };
  }
}

/**
 * An output item the agent added between model turns, not the model: a tool
 * output, or (gymnasium_agent) the environment's next observation as a user message.
 */
function fromAgent(item: JsonObject): boolean {
  return item.type === "function_call_output" || ((item.type ?? "message") === "message" && item.role === "user");
}

/** The entries of a request's conversation: the tools offered, instructions, then each input item that counts. */
export function conversationEntries(params: JsonObject): string[] {
  const entries: string[] = [];
  if (Array.isArray(params.tools) && params.tools.length > 0) entries.push(entry("tools", canonical(params.tools.map(toolSeen))));
  if (typeof params.instructions === "string" && params.instructions !== "") entries.push(entry("instructions", params.instructions));
  const input = params.input;
  if (typeof input === "string") entries.push(entry("message", "user", input));
  else if (Array.isArray(input)) for (const item of input) if (isObject(item)) entries.push(...itemEntries(item));
  return entries;
}

function itemEntries(item: JsonObject): string[] {
  const type = item.type ?? (item.role !== undefined ? "message" : undefined);
  switch (type) {
    case "message":
      return [entry("message", String(item.role ?? "user"), textOf(item.content))];
    case "function_call":
      return [entry("function_call", String(item.name ?? ""), canonicalText(String(item.arguments ?? "")))];
    case "function_call_output":
      return [entry("function_call_output", typeof item.output === "string" ? canonicalText(item.output) : canonical(item.output ?? null))];
    case "reasoning":
      return [];
    default: {
      const { id: _id, status: _status, ...rest } = item;
      return [entry("item", canonical(rest))];
    }
  }
}

/** What the model sees of a tool: its name, description and parameters (a missing description reads as ""). */
function toolSeen(tool: JsonValue): JsonValue {
  if (!isObject(tool) || tool.type !== "function") return tool;
  return { name: tool.name ?? "", description: tool.description ?? "", parameters: tool.parameters ?? null };
}

function textOf(content: JsonValue | undefined): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p) => (isObject(p) ? (typeof p.text === "string" ? p.text : typeof p.refusal === "string" ? p.refusal : canonical(p)) : ""))
    .join("");
}

/** JSON text compared by value (key order and spacing do not count); other text as is. */
function canonicalText(text: string): string {
  try {
    return canonical(JSON.parse(text) as JsonValue);
  } catch {
    return text;
  }
}

function canonical(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

function entry(...parts: string[]): string {
  return JSON.stringify(parts);
}

function keyOf(entries: string[]): string {
  return createHash("sha256").update(entries.join("\n")).digest("base64");
}

function startsWith(entries: string[], prefix: string[]): boolean {
  return prefix.length <= entries.length && prefix.every((e, i) => entries[i] === e);
}

/** An entry for a message: `message(user: "how's the outside?")`. */
function show(e: string | undefined): string {
  if (e === undefined) return "nothing";
  const [kind, ...rest] = JSON.parse(e) as string[];
  const text = rest.join(": ");
  return `${kind}(${text.length > 80 ? `${text.slice(0, 80)}...` : text})`;
}
