// A Chat Completions answer (whole, or streamed chunk by chunk) as a Responses
// API response: reasoning (`reasoning_content`/`reasoning` fields, or
// `<think>` text) becomes a reasoning item, the visible text a message, each
// tool call (parallel ones too) a function_call item, finish_reason "length"
// an incomplete response, and vLLM's token ids and logprobs the RL token
// fields of the turn's last output item (where NeMo Gym puts them).
import { randomUUID } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { isObject, type ModelEvent } from "./backend.js";
import { responseSettings } from "./response-settings.js";
import { ThinkSplitter } from "./think-tags.js";

export interface AssembleOptions {
  /** Instance name, for error messages. */
  backend: string;
  /** Read `<think>...</think>` in the text as reasoning. */
  thinkTags: boolean;
  /** Token ids and logprobs were asked for and must be there. */
  returnTokenIds: boolean;
  /** The Responses request: its settings are echoed on the response, as the Responses API does. */
  params: JsonObject;
}


interface Slot {
  index: number;
  item: JsonObject;
}

export class ChatAssembler {
  private head: JsonObject | undefined;
  private readonly slots: Slot[] = [];
  private reasoning: { slot: Slot; texts: string[] } | undefined;
  /** The reasoning item was reported done (something followed it). */
  private reasoningDone = false;
  private message: { slot: Slot; text: string; refusal: string } | undefined;
  private readonly toolSlots = new Map<number, Slot>();
  private readonly think: ThinkSplitter;
  /** Whitespace seen before any visible text: kept until text follows, dropped if none does. */
  private pendingSpace = "";
  private finishReason: string | undefined;
  private usage: JsonObject | undefined;
  private promptIds: JsonValue[] | undefined;
  private readonly genIds: JsonValue[] = [];
  private readonly logprobIds: JsonValue[] = [];
  private readonly logprobs: JsonValue[] = [];
  private sawTokenIds = false;
  private sawLogprobs = false;
  private bundle: JsonObject | undefined;

  constructor(private readonly options: AssembleOptions) {
    this.think = new ThinkSplitter(options.thinkTags);
  }

  /** Takes one chunk (`chat.completion.chunk`, or a whole completion's message as the delta); returns its events. */
  chunk(chunk: JsonObject): ModelEvent[] {
    const events: ModelEvent[] = [];
    if (!this.head) {
      this.head = {
        id: `resp_${typeof chunk.id === "string" && chunk.id !== "" ? chunk.id : randomUUID().replaceAll("-", "")}`,
        object: "response",
        created_at: typeof chunk.created === "number" ? chunk.created : Math.floor(Date.now() / 1000),
        model: typeof chunk.model === "string" ? chunk.model : "",
      };
      events.push({ type: "created", response: { ...this.head, status: "in_progress", output: [], ...this.echoed() } });
    }
    if (Array.isArray(chunk.prompt_token_ids)) this.promptIds = chunk.prompt_token_ids;
    if (isObject(chunk.usage)) this.usage = chunk.usage;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = choices.find((c) => isObject(c) && (c.index ?? 0) === 0);
    if (!isObject(choice)) return events;
    const delta = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : {};

    const reasoningField = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoningField === "string" && reasoningField !== "") this.addReasoning(reasoningField, false, events);
    if (typeof delta.content === "string") {
      for (const piece of this.think.push(delta.content)) this.addPiece(piece, events);
    }
    if (typeof delta.refusal === "string") this.openMessage(events).refusal += delta.refusal;
    if (Array.isArray(delta.tool_calls)) delta.tool_calls.forEach((tc, i) => this.addToolCall(tc, i, events));
    if (TOKEN_BUNDLE.every((k) => Array.isArray(delta[k]))) this.bundle = delta;

    if (Array.isArray(choice.token_ids)) {
      this.sawTokenIds = true;
      this.genIds.push(...choice.token_ids);
    }
    const lp = isObject(choice.logprobs) ? choice.logprobs.content : undefined;
    if (Array.isArray(lp)) {
      this.sawLogprobs = true;
      for (const entry of lp) {
        if (!isObject(entry)) continue;
        this.logprobs.push(entry.logprob ?? null);
        this.logprobIds.push(tokenIdOf(entry.token));
      }
    }
    if (typeof choice.finish_reason === "string") this.finishReason = choice.finish_reason;
    return events;
  }

  /** The end of the answer: every item done, then the whole response. */
  finish(): ModelEvent[] {
    const events: ModelEvent[] = [];
    if (!this.head) throw new ConnectError(`${this.options.backend}: upstream sent no answer`, Code.Unavailable);
    for (const piece of this.think.end()) this.addPiece(piece, events);
    // An answer with nothing in it is still an (empty) message, as NeMo Gym makes it.
    if (this.slots.length === 0) this.openMessage(events);

    const incomplete = this.finishReason === "length" || this.finishReason === "content_filter";
    const final = this.slots.map((slot) => this.finalItem(slot, incomplete));
    if (this.options.returnTokenIds) Object.assign(final.at(-1)!, this.tokenFields());
    final.forEach((item, index) => {
      if (!(this.reasoningDone && index === this.reasoning?.slot.index)) events.push({ type: "item_done", index, item });
    });

    const response: JsonObject = { ...this.head, status: incomplete ? "incomplete" : "completed" };
    if (incomplete) response.incomplete_details = { reason: this.finishReason === "length" ? "max_output_tokens" : "content_filter" };
    response.output = final;
    if (this.usage) response.usage = responsesUsage(this.usage);
    Object.assign(response, this.echoed());
    events.push({ type: "completed", response });
    return events;
  }

  private addPiece(piece: { kind: "open" | "reasoning" | "text"; text: string }, events: ModelEvent[]): void {
    if (piece.kind === "text") this.addText(piece.text, events);
    else this.addReasoning(piece.text, piece.kind === "open", events);
  }

  private addReasoning(text: string, newBlock: boolean, events: ModelEvent[]): void {
    if (!this.reasoning) {
      const slot = this.open({ type: "reasoning", id: `rs_${uid()}`, summary: [], status: "in_progress" }, events);
      this.reasoning = { slot, texts: [] };
    }
    const texts = this.reasoning.texts;
    if (newBlock || texts.length === 0) texts.push("");
    texts[texts.length - 1] += text;
  }

  private addText(text: string, events: ModelEvent[]): void {
    if (!this.message || this.message.text === "") {
      if (text.trim() === "") {
        this.pendingSpace += text;
        return;
      }
      text = this.pendingSpace + text;
      this.pendingSpace = "";
    }
    const message = this.openMessage(events);
    message.text += text;
    events.push({ type: "text_delta", index: message.slot.index, delta: text });
  }

  private openMessage(events: ModelEvent[]): NonNullable<ChatAssembler["message"]> {
    if (!this.message) {
      const slot = this.open({ type: "message", id: `msg_${uid()}`, role: "assistant", status: "in_progress", content: [] }, events);
      this.message = { slot, text: "", refusal: "" };
    }
    return this.message;
  }

  private addToolCall(tc: JsonValue, position: number, events: ModelEvent[]): void {
    if (!isObject(tc)) return;
    const key = typeof tc.index === "number" ? tc.index : position;
    const fn = isObject(tc.function) ? tc.function : {};
    let slot = this.toolSlots.get(key);
    if (!slot) {
      const callId = typeof tc.id === "string" && tc.id !== "" ? tc.id : `call_${uid()}`;
      slot = this.open(
        { type: "function_call", id: `fc_${callId}`, call_id: callId, name: typeof fn.name === "string" ? fn.name : "", arguments: "", status: "in_progress" },
        events,
      );
      this.toolSlots.set(key, slot);
    } else if (typeof fn.name === "string" && slot.item.name === "") {
      slot.item.name = fn.name;
    }
    if (typeof fn.arguments === "string" && fn.arguments !== "") {
      slot.item.arguments = String(slot.item.arguments) + fn.arguments;
      events.push({ type: "arguments_delta", index: slot.index, delta: fn.arguments });
    }
  }

  private open(item: JsonObject, events: ModelEvent[]): Slot {
    // Reasoning comes first and is over once anything else starts: say so now, so
    // streaming clients get it before the answer rather than after.
    if (item.type !== "reasoning" && this.reasoning && !this.reasoningDone) {
      this.reasoningDone = true;
      const slot = this.reasoning.slot;
      events.push({ type: "item_done", index: slot.index, item: this.finalItem(slot, false) });
    }
    const slot = { index: this.slots.length, item };
    this.slots.push(slot);
    events.push({ type: "item_added", index: slot.index, item: { ...item } });
    return slot;
  }

  private finalItem(slot: Slot, incomplete: boolean): JsonObject {
    const item = slot.item;
    switch (item.type) {
      case "reasoning":
        return { ...item, summary: this.reasoning!.texts.map((text) => ({ type: "summary_text", text })), status: "completed" };
      case "message": {
        const m = this.message!;
        const content: JsonObject[] = [];
        if (m.text !== "" || m.refusal === "") content.push({ type: "output_text", text: m.text, annotations: [] });
        if (m.refusal !== "") content.push({ type: "refusal", refusal: m.refusal });
        return { ...item, content, status: incomplete ? "incomplete" : "completed" };
      }
      default:
        return { ...item, status: "completed" };
    }
  }

  /** The turn's token data, from the best source the backend gave; missing data is an error (it was asked for). */
  private tokenFields(): JsonObject {
    const { backend } = this.options;
    if (this.bundle) {
      return Object.fromEntries(TOKEN_BUNDLE.map((k) => [k, this.bundle![k]!]));
    }
    if (!this.promptIds) {
      throw new ConnectError(
        `${backend}: the backend returned no prompt_token_ids; token ids need a vLLM server that supports return_token_ids (or set return_token_ids: false)`,
        Code.FailedPrecondition,
      );
    }
    if (!this.sawLogprobs) {
      throw new ConnectError(`${backend}: the backend returned no logprobs for the generated tokens (logprobs were asked for)`, Code.FailedPrecondition);
    }
    const generation = this.sawTokenIds ? this.genIds : this.logprobIds;
    if (generation.some((id) => typeof id !== "number")) {
      throw new ConnectError(`${backend}: the backend's logprob tokens are not token ids (start vLLM so it honours return_tokens_as_token_ids)`, Code.FailedPrecondition);
    }
    if (generation.length !== this.logprobs.length) {
      throw new ConnectError(
        `${backend}: the backend returned ${generation.length} generated token ids but ${this.logprobs.length} logprobs`,
        Code.Internal,
      );
    }
    return { prompt_token_ids: this.promptIds, generation_token_ids: generation, generation_log_probs: this.logprobs };
  }

  private echoed(): JsonObject {
    return responseSettings(this.options.params);
  }
}

const TOKEN_BUNDLE = ["prompt_token_ids", "generation_token_ids", "generation_log_probs"] as const;

/** A whole (non-streamed) chat completion as a Response. */
export function responseFromChatCompletion(completion: JsonObject, options: AssembleOptions): JsonObject {
  const choices = Array.isArray(completion.choices) ? completion.choices : [];
  const choice = choices.find((c) => isObject(c) && (c.index ?? 0) === 0);
  if (!isObject(choice) || !isObject(choice.message)) {
    throw new ConnectError(`${options.backend}: the upstream answer has no choices[0].message`, Code.Unavailable);
  }
  const assembler = new ChatAssembler(options);
  assembler.chunk({ ...completion, choices: [{ ...choice, delta: choice.message }] });
  const last = assembler.finish().at(-1)!;
  return (last as { response: JsonObject }).response;
}

/** Chat Completions usage as Responses usage. */
export function responsesUsage(u: JsonObject): JsonObject {
  const input = num(u.prompt_tokens);
  const output = num(u.completion_tokens);
  const cached = isObject(u.prompt_tokens_details) ? num(u.prompt_tokens_details.cached_tokens) : 0;
  const reasoning = isObject(u.completion_tokens_details) ? num(u.completion_tokens_details.reasoning_tokens) : 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: typeof u.total_tokens === "number" ? u.total_tokens : input + output,
  };
}

/** vLLM writes a token as "token_id:123" when asked to return tokens as ids. */
function tokenIdOf(token: JsonValue | undefined): JsonValue {
  if (typeof token === "string") {
    const m = /^token_id:(-?\d+)$/.exec(token);
    if (m) return Number(m[1]);
  }
  return token ?? null;
}

function num(v: JsonValue | undefined): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function uid(): string {
  return randomUUID().replaceAll("-", "");
}
