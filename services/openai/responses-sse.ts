// Model events as the Responses API's streaming events, in the order and
// shape OpenAI sends them (so the SDK's `responses.stream()` can rebuild the
// response): created/in_progress, then per item output_item.added,
// content_part.added, text or arguments deltas, their .done events,
// output_item.done, and last response.completed (or response.incomplete).
import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { isObject, type ModelEvent } from "./backend.js";

export class ResponsesSseEncoder {
  private sequence = 0;
  private readonly itemIds = new Map<number, string>();
  /** Content parts announced per message (content_part.added sent). */
  private readonly partsAdded = new Map<number, number>();

  /** The events for one model event, each `{type, sequence_number, ...}`. */
  encode(event: ModelEvent): JsonObject[] {
    switch (event.type) {
      case "created":
        return [this.ev("response.created", { response: event.response }), this.ev("response.in_progress", { response: event.response })];
      case "item_added": {
        const id = typeof event.item.id === "string" && event.item.id !== "" ? event.item.id : `item_${randomUUID().replaceAll("-", "")}`;
        this.itemIds.set(event.index, id);
        return [this.ev("response.output_item.added", { output_index: event.index, item: { ...event.item, id } })];
      }
      case "text_delta":
        return [
          ...this.announceParts(event.index, [{ type: "output_text", text: "", annotations: [] }]),
          this.ev("response.output_text.delta", { ...this.at(event.index), content_index: 0, delta: event.delta, logprobs: [] }),
        ];
      case "arguments_delta":
        return [this.ev("response.function_call_arguments.delta", { ...this.at(event.index), delta: event.delta })];
      case "item_done":
        return this.itemDone(event.index, event.item);
      case "completed": {
        const type = event.response.status === "incomplete" ? "response.incomplete" : "response.completed";
        return [this.ev(type, { response: event.response })];
      }
    }
  }

  /** An error after the stream started: OpenAI's `error` event (with `error` too, which the SDK raises). */
  error(message: string, code: string): JsonObject {
    return this.ev("error", { code, message, param: null, error: { message, type: code, code } });
  }

  private itemDone(index: number, item: JsonObject): JsonObject[] {
    const out: JsonObject[] = [];
    const id = this.itemIds.get(index) ?? (typeof item.id === "string" ? item.id : undefined);
    const final = id !== undefined ? { ...item, id } : item;
    if (item.type === "message" && Array.isArray(item.content)) {
      const parts = item.content.filter(isObject);
      out.push(...this.announceParts(index, parts.map(emptyPart)));
      parts.forEach((part, j) => {
        if (part.type === "output_text") {
          out.push(this.ev("response.output_text.done", { ...this.at(index), content_index: j, text: part.text ?? "", logprobs: [] }));
        }
        out.push(this.ev("response.content_part.done", { ...this.at(index), content_index: j, part }));
      });
    } else if (item.type === "function_call") {
      out.push(this.ev("response.function_call_arguments.done", { ...this.at(index), name: item.name ?? "", arguments: item.arguments ?? "" }));
    }
    out.push(this.ev("response.output_item.done", { output_index: index, item: final }));
    return out;
  }

  /** content_part.added for parts not announced yet (the SDK needs a part before its deltas and .done). */
  private announceParts(index: number, parts: JsonObject[]): JsonObject[] {
    const added = this.partsAdded.get(index) ?? 0;
    if (parts.length <= added) return [];
    this.partsAdded.set(index, parts.length);
    return parts.slice(added).map((part, k) => this.ev("response.content_part.added", { ...this.at(index), content_index: added + k, part }));
  }

  private at(index: number): JsonObject {
    return { item_id: this.itemIds.get(index) ?? "", output_index: index };
  }

  private ev(type: string, fields: JsonObject): JsonObject {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}

function emptyPart(part: JsonObject): JsonObject {
  switch (part.type) {
    case "output_text":
      return { type: "output_text", text: "", annotations: [] };
    case "refusal":
      return { type: "refusal", refusal: "" };
    default:
      return part;
  }
}
