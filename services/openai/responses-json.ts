// Lossless conversion between OpenAI Responses API JSON (as NeMo Gym writes it)
// and the gymmesh.v1 proto messages (proto/gymmesh/v1/responses.proto, task.proto).
//
// The guarantee: for any JSON the `*FromJson` functions accept,
// `xToJson(xFromJson(json))` is deep-equal to `json` (key order aside), also
// after a trip through the binary wire format. Input that the messages cannot
// hold is rejected with a JsonShapeError that names the place (`path`).
//
// How JSON keys map to fields:
//
// * A typed field reads the JSON key of the same snake_case name. Every key the
//   message does not model, and every modeled key whose value is `null`, is
//   kept verbatim in the message's `extra_json` object (JSON text). On output
//   the typed fields are written first and `extra_json` is merged over them
//   (so it wins if a hand-built message has the same key in both places).
//   Other open JSON (tool `parameters`, `tool_choice`, `annotations`,
//   `logprobs`, unmodelled item/part/tool types) is JSON text too: numbers
//   keep the form they were written in.
// * Closed sets (`role`, item `status`, response `status`) are enums; a value
//   the enum does not know (or "") stays in `extra_json` and the enum is
//   UNSPECIFIED, so nothing is lost and new API values still pass through.
// * `optional` proto fields (model, temperature, description, created_at...)
//   and message/oneof fields (content, usage, parameters, tool_choice,
//   annotations, logprobs, tokens...) track presence, so they round-trip as is.
// * Plain proto3 strings cannot tell "absent" from "". Two rules, by field:
//   - Identifier strings ("" is never meaningful): `id`,
//     `call_id`, `name`, `encrypted_content`, Response `model`. The typed field
//     holds only a non-empty value and is written only when non-empty; an
//     absent key reads as "". A key present with value "" stays in `extra`
//     (so it comes back, and a reader of the typed field still sees "").
//   - Free-text strings the Responses API requires ("" is a real value that
//     must be sent): FunctionCall `arguments`, FunctionCallOutput `output`,
//     InputText/OutputText `text`, Refusal `refusal`, ReasoningText `type` and
//     `text` (its type is implied by its list, `summary_text` in `summary` and
//     `reasoning_text` in `content`; another type stays in `extra_json`). Always written, even when ""; the key must be present in the
//     input (a missing one is a JsonShapeError), though it may be `null` (kept
//     in `extra`, which then overrides the written "").
//     FunctionCallOutput `output` may also be an array of content parts (the
//     API allows it): that array is kept in `extra`, the typed field is "".
// * Plain numbers (Usage token counts) are required and always written, like
//   the free-text strings.
// * Repeated fields cannot tell "absent" from []: `tools` (request and
//   response) and Reasoning `content` hold only non-empty lists and are written
//   only when non-empty; a [] in the input stays in `extra`. Response `output`
//   and Reasoning `summary` are required by the API: always written, and the
//   key must be present (or null).
// * Token data for RL: the flat keys `prompt_token_ids`, `generation_token_ids`
//   and `generation_log_probs` on a message, function_call or reasoning item
//   fill `tokens` when all three are present and non-null; tokens are written
//   back flat (all three keys) only when `tokens` is set. A partial set is kept
//   verbatim in `extra`. Note `generation_log_probs` is a proto `float`: the
//   binary wire format keeps float32 precision (vLLM's logprobs are float32).
// * Items dispatch on `type`; an object with `role` and no `type` is a Message
//   with `untyped = true` (written back without "type"). Unknown item, content
//   part and tool types are kept verbatim in `other_json`.
// * Object keys whose value is `undefined` count as absent (as in
//   JSON.stringify). Values that are not JSON (NaN, functions, class
//   instances...) are a JsonShapeError.
import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import {
  ItemStatus,
  ResponseStatus,
  Role,
  ContentPartSchema,
  ContentPartsSchema,
  FunctionCallOutputSchema,
  FunctionCallSchema,
  FunctionToolSchema,
  InputTextSchema,
  ItemListSchema,
  ItemSchema,
  MessageSchema,
  OutputTextSchema,
  ReasoningSchema,
  ReasoningTextSchema,
  RefusalSchema,
  ResponseCreateParamsSchema,
  ResponseSchema,
  TokenDataSchema,
  ToolSchema,
  UsageSchema,
  type ContentPart,
  type FunctionCall,
  type FunctionCallOutput,
  type FunctionTool,
  type Item,
  type Message,
  type Reasoning,
  type ReasoningText,
  type Response,
  type ResponseCreateParams,
  type TokenData,
  type Tool,
  type Usage,
} from "../../gen/gymmesh/v1/responses_pb.js";
import { TaskSchema, type Task, type Verdict } from "../../gen/gymmesh/v1/task_pb.js";

/** JSON that does not fit the proto messages; `path` says where (`responses_create_params.input[2].content`). */
export class JsonShapeError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path === "" ? "(root)" : path}: ${problem}`);
    this.name = "JsonShapeError";
    this.path = path;
  }
}

// ---------------------------------------------------------------------------
// Plain JSON helpers

function key(path: string, k: string): string {
  return path === "" ? k : `${path}.${k}`;
}

function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
  if (typeof v === "number" || typeof v === "boolean") return `${typeof v} ${String(v)}`;
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets a key safely (a JSON key may be "__proto__"). */
function put(obj: JsonObject, k: string, v: JsonValue): void {
  // Plain assignment makes the same own, enumerable, writable property, far faster, for every key but
  // "__proto__" (an accessor of Object.prototype: assigning it would set the prototype, not a property).
  if (k === "__proto__") Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

/** A deep copy of a JSON value; throws for anything JSON cannot hold. */
function jsonValue(v: unknown, path: string): JsonValue {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new JsonShapeError(path, `${String(v)} is not a JSON number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonValue(x, index(path, i)));
  if (isPlainObject(v)) return jsonObject(v, path);
  throw new JsonShapeError(path, `expected a JSON value, got ${describe(v)}`);
}

function jsonObject(v: Record<string, unknown>, path: string): JsonObject {
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (x !== undefined) put(out, k, jsonValue(x, key(path, k)));
  }
  return out;
}

function expectObject(v: unknown, path: string, what: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw new JsonShapeError(path, `${what} must be a JSON object, got ${describe(v)}`);
  return v;
}

function has(obj: Record<string, unknown>, k: string): boolean {
  return Object.hasOwn(obj, k) && obj[k] !== undefined;
}

/**
 * Reads the keys of one JSON object: each `take*` consumes a key into a typed
 * field; whatever is not consumed (unknown keys, nulls, the "" of identifier
 * strings, empty lists) ends up in `extra()`.
 */
class Fields {
  private readonly consumed = new Set<string>();
  constructor(
    readonly obj: Record<string, unknown>,
    readonly path: string,
  ) {}

  at(k: string): string {
    return key(this.path, k);
  }

  /** The value of `k` if present and not null (without consuming it). */
  peek(k: string): unknown {
    return has(this.obj, k) && this.obj[k] !== null ? this.obj[k] : undefined;
  }

  consume(k: string): void {
    this.consumed.add(k);
  }

  /** Present non-null value of `k`, consumed; null and absent give undefined (null stays for extra). */
  take(k: string): unknown {
    const v = this.peek(k);
    if (v !== undefined) this.consume(k);
    return v;
  }

  /** Like take, but the key must be present (null allowed: it stays in extra). */
  takeRequired(k: string, what: string): unknown {
    if (!has(this.obj, k)) throw new JsonShapeError(this.at(k), `missing required key "${k}" (${what})`);
    return this.take(k);
  }

  /** Identifier-like string: "" and absent both read as "", "" stays in extra. */
  idString(k: string): string {
    const v = this.peek(k);
    if (v === undefined) return "";
    if (typeof v !== "string") throw new JsonShapeError(this.at(k), `expected a string, got ${describe(v)}`);
    if (v !== "") this.consume(k);
    return v;
  }

  /** Required free-text string, always written back. */
  requiredString(k: string, what: string): string {
    const v = this.takeRequired(k, what);
    if (v === undefined) return "";
    if (typeof v !== "string") throw new JsonShapeError(this.at(k), `expected a string, got ${describe(v)}`);
    return v;
  }

  /** `optional string` field. */
  optString(k: string): string | undefined {
    const v = this.take(k);
    if (v !== undefined && typeof v !== "string") throw new JsonShapeError(this.at(k), `expected a string, got ${describe(v)}`);
    return v;
  }

  optBool(k: string): boolean | undefined {
    const v = this.take(k);
    if (v !== undefined && typeof v !== "boolean") throw new JsonShapeError(this.at(k), `expected a boolean, got ${describe(v)}`);
    return v;
  }

  optNumber(k: string): number | undefined {
    const v = this.take(k);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new JsonShapeError(this.at(k), `expected a number, got ${describe(v)}`);
    return v;
  }

  optInt32(k: string): number | undefined {
    const v = this.take(k);
    if (v === undefined) return undefined;
    return int32(v, this.at(k));
  }

  requiredInt32(k: string, what: string): number {
    const v = this.takeRequired(k, what);
    return v === undefined ? 0 : int32(v, this.at(k));
  }

  /** A list that is kept typed only when non-empty ([] and null stay in extra). */
  nonEmptyList(k: string, what: string): unknown[] {
    const v = this.peek(k);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new JsonShapeError(this.at(k), `expected an array of ${what}, got ${describe(v)}`);
    if (v.length > 0) this.consume(k);
    return v;
  }

  /** A required list, always written back (null stays in extra). */
  requiredList(k: string, what: string): unknown[] {
    const v = this.takeRequired(k, `an array of ${what}`);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new JsonShapeError(this.at(k), `expected an array of ${what}, got ${describe(v)}`);
    return v;
  }

  /** A closed-set string as its enum value; "" and values the enum does not know stay in extra (UNSPECIFIED). */
  enumValue<E extends number>(k: string, values: Readonly<Record<string, E>>): E | 0 {
    const v = this.peek(k);
    if (v === undefined) return 0;
    if (typeof v !== "string") throw new JsonShapeError(this.at(k), `expected a string, got ${describe(v)}`);
    const known = Object.hasOwn(values, v) ? values[v] : undefined;
    if (known === undefined) return 0;
    this.consume(k);
    return known;
  }

  /** Every key not consumed (unknown keys, nulls, empty identifiers/lists) as JSON text, or "" if none. */
  extraJson(): string {
    const out: JsonObject = {};
    let any = false;
    for (const [k, v] of Object.entries(this.obj)) {
      if (v === undefined || this.consumed.has(k)) continue;
      put(out, k, jsonValue(v, this.at(k)));
      any = true;
    }
    return any ? JSON.stringify(out) : "";
  }
}

/** JSON text of a value read from JSON (checked to be JSON). */
function jsonText(v: unknown, path: string): string {
  return JSON.stringify(jsonValue(v, path));
}

/** The value of a `*_json` field; a hand-built message with text that is not JSON is a JsonShapeError. */
function parseJsonText(text: string, path: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new JsonShapeError(path, `not valid JSON text: ${(err as Error).message}`);
  }
}

function parseJsonObjectText(text: string, path: string): JsonObject {
  const v = parseJsonText(text, path);
  if (!isPlainObject(v)) throw new JsonShapeError(path, `expected the JSON text of an object, got ${describe(v)}`);
  return v;
}

// The closed sets of the Responses API, by their JSON names.
const ROLES: Record<string, Role> = { user: Role.USER, assistant: Role.ASSISTANT, system: Role.SYSTEM, developer: Role.DEVELOPER };
const ITEM_STATUSES: Record<string, ItemStatus> = {
  in_progress: ItemStatus.IN_PROGRESS,
  completed: ItemStatus.COMPLETED,
  incomplete: ItemStatus.INCOMPLETE,
};
const RESPONSE_STATUSES: Record<string, ResponseStatus> = {
  completed: ResponseStatus.COMPLETED,
  failed: ResponseStatus.FAILED,
  in_progress: ResponseStatus.IN_PROGRESS,
  cancelled: ResponseStatus.CANCELLED,
  queued: ResponseStatus.QUEUED,
  incomplete: ResponseStatus.INCOMPLETE,
};

/** The JSON name of an enum value (undefined for UNSPECIFIED). */
function nameOf<E extends number>(values: Readonly<Record<string, E>>, v: E): string | undefined {
  if (v === 0) return undefined;
  for (const [name, value] of Object.entries(values)) if (value === v) return name;
  return undefined;
}

export const roleName = (r: Role) => nameOf(ROLES, r) ?? "";
export const roleOf = (name: string): Role => ROLES[name] ?? Role.UNSPECIFIED;
export const itemStatusName = (s: ItemStatus) => nameOf(ITEM_STATUSES, s) ?? "";
export const responseStatusName = (s: ResponseStatus) => nameOf(RESPONSE_STATUSES, s) ?? "";
export const responseStatusOf = (name: string): ResponseStatus => RESPONSE_STATUSES[name] ?? ResponseStatus.UNSPECIFIED;

function putEnum<E extends number>(out: JsonObject, k: string, values: Readonly<Record<string, E>>, v: E): void {
  const name = nameOf(values, v);
  if (name !== undefined) put(out, k, name);
}

function int32(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw new JsonShapeError(path, `expected a 32-bit integer, got ${describe(v)}`);
  }
  return v;
}

/** Output: typed fields first, then `extra_json` merged over them. */
function withExtra(out: JsonObject, extraJson: string, path: string): JsonObject {
  if (extraJson !== "") {
    for (const [k, v] of Object.entries(parseJsonObjectText(extraJson, key(path, "extra_json")))) put(out, k, v);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Token data (flat keys on message, function_call and reasoning items)

const TOKEN_KEYS = ["prompt_token_ids", "generation_token_ids", "generation_log_probs"] as const;
const FLOAT32_MAX = 3.4028234663852886e38;

function tokensFromFields(f: Fields): TokenData | undefined {
  if (!TOKEN_KEYS.every((k) => f.peek(k) !== undefined)) return undefined; // partial sets stay in extra
  const ids = (k: string): number[] => {
    const v = f.take(k);
    if (!Array.isArray(v)) throw new JsonShapeError(f.at(k), `expected an array of token ids, got ${describe(v)}`);
    return v.map((x, i) => int32(x, index(f.at(k), i)));
  };
  const promptTokenIds = ids("prompt_token_ids");
  const generationTokenIds = ids("generation_token_ids");
  const lp = f.take("generation_log_probs");
  const lpPath = f.at("generation_log_probs");
  if (!Array.isArray(lp)) throw new JsonShapeError(lpPath, `expected an array of log probabilities, got ${describe(lp)}`);
  const generationLogProbs = lp.map((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x) || Math.abs(x) > FLOAT32_MAX) {
      throw new JsonShapeError(index(lpPath, i), `expected a finite (float32) number, got ${describe(x)}`);
    }
    return x;
  });
  return create(TokenDataSchema, { promptTokenIds, generationTokenIds, generationLogProbs });
}

function tokensToJson(out: JsonObject, t: TokenData | undefined): void {
  if (!t) return;
  put(out, "prompt_token_ids", [...t.promptTokenIds]);
  put(out, "generation_token_ids", [...t.generationTokenIds]);
  put(out, "generation_log_probs", [...t.generationLogProbs]);
}

// ---------------------------------------------------------------------------
// Items

/** One input/output item. `path` is prefixed to error paths. */
export function itemFromJson(json: unknown, path = ""): Item {
  const obj = expectObject(json, path, "an item");
  if (!has(obj, "type")) {
    if (has(obj, "role")) return create(ItemSchema, { kind: { case: "message", value: messageFromFields(new Fields(obj, path), true) } });
    return create(ItemSchema, { kind: { case: "otherJson", value: jsonText(obj, path) } });
  }
  const f = new Fields(obj, path);
  switch (obj.type) {
    case "message":
      f.consume("type");
      return create(ItemSchema, { kind: { case: "message", value: messageFromFields(f, false) } });
    case "function_call":
      f.consume("type");
      return create(ItemSchema, { kind: { case: "functionCall", value: functionCallFromFields(f) } });
    case "function_call_output":
      f.consume("type");
      return create(ItemSchema, { kind: { case: "functionCallOutput", value: functionCallOutputFromFields(f) } });
    case "reasoning":
      f.consume("type");
      return create(ItemSchema, { kind: { case: "reasoning", value: reasoningFromFields(f) } });
    default:
      return create(ItemSchema, { kind: { case: "otherJson", value: jsonText(obj, path) } });
  }
}

export function itemToJson(item: Item, path = ""): JsonObject {
  switch (item.kind.case) {
    case "message":
      return messageToJson(item.kind.value, path);
    case "functionCall":
      return functionCallToJson(item.kind.value, path);
    case "functionCallOutput":
      return functionCallOutputToJson(item.kind.value, path);
    case "reasoning":
      return reasoningToJson(item.kind.value, path);
    case "otherJson":
      return parseJsonObjectText(item.kind.value, path);
    default:
      throw new JsonShapeError(path, "Item has no kind set");
  }
}

function messageFromFields(f: Fields, untyped: boolean): Message {
  const id = f.idString("id");
  const role = f.enumValue("role", ROLES);
  const status = f.enumValue("status", ITEM_STATUSES);
  const c = f.take("content");
  let content: Message["content"] = { case: undefined };
  if (typeof c === "string") {
    content = { case: "text", value: c };
  } else if (Array.isArray(c)) {
    const parts = c.map((p, i) => contentPartFromJson(p, index(f.at("content"), i)));
    content = { case: "parts", value: create(ContentPartsSchema, { parts }) };
  } else if (c !== undefined) {
    throw new JsonShapeError(f.at("content"), `message content must be a string or an array of content parts, got ${describe(c)}`);
  }
  const tokens = tokensFromFields(f);
  return create(MessageSchema, { id, role, content, status, untyped, tokens, extraJson: f.extraJson() });
}

function messageToJson(m: Message, path: string): JsonObject {
  const out: JsonObject = {};
  if (!m.untyped) put(out, "type", "message");
  if (m.id !== "") put(out, "id", m.id);
  putEnum(out, "role", ROLES, m.role);
  if (m.content.case === "text") {
    put(out, "content", m.content.value);
  } else if (m.content.case === "parts") {
    put(out, "content", m.content.value.parts.map((p, i) => contentPartToJson(p, index(key(path, "content"), i))));
  }
  putEnum(out, "status", ITEM_STATUSES, m.status);
  tokensToJson(out, m.tokens);
  return withExtra(out, m.extraJson, path);
}

function contentPartFromJson(json: unknown, path: string): ContentPart {
  const obj = expectObject(json, path, "a content part");
  const f = new Fields(obj, path);
  switch (has(obj, "type") ? obj.type : undefined) {
    case "input_text": {
      f.consume("type");
      const text = f.requiredString("text", "the text of an input_text part");
      return create(ContentPartSchema, { kind: { case: "inputText", value: create(InputTextSchema, { text, extraJson: f.extraJson() }) } });
    }
    case "output_text": {
      f.consume("type");
      const text = f.requiredString("text", "the text of an output_text part");
      const list = (k: string): string => {
        const v = f.take(k);
        if (v === undefined) return "";
        if (!Array.isArray(v)) throw new JsonShapeError(f.at(k), `expected an array, got ${describe(v)}`);
        return jsonText(v, f.at(k));
      };
      const annotationsJson = list("annotations");
      const logprobsJson = list("logprobs");
      return create(ContentPartSchema, {
        kind: { case: "outputText", value: create(OutputTextSchema, { text, annotationsJson, logprobsJson, extraJson: f.extraJson() }) },
      });
    }
    case "refusal": {
      f.consume("type");
      const refusal = f.requiredString("refusal", "the text of a refusal part");
      return create(ContentPartSchema, { kind: { case: "refusal", value: create(RefusalSchema, { refusal, extraJson: f.extraJson() }) } });
    }
    default:
      return create(ContentPartSchema, { kind: { case: "otherJson", value: jsonText(obj, path) } });
  }
}

function contentPartToJson(p: ContentPart, path: string): JsonObject {
  const out: JsonObject = {};
  switch (p.kind.case) {
    case "inputText":
      put(out, "type", "input_text");
      put(out, "text", p.kind.value.text);
      return withExtra(out, p.kind.value.extraJson, path);
    case "outputText": {
      const v = p.kind.value;
      put(out, "type", "output_text");
      put(out, "text", v.text);
      if (v.annotationsJson !== "") put(out, "annotations", parseJsonText(v.annotationsJson, key(path, "annotations_json")));
      if (v.logprobsJson !== "") put(out, "logprobs", parseJsonText(v.logprobsJson, key(path, "logprobs_json")));
      return withExtra(out, v.extraJson, path);
    }
    case "refusal":
      put(out, "type", "refusal");
      put(out, "refusal", p.kind.value.refusal);
      return withExtra(out, p.kind.value.extraJson, path);
    case "otherJson":
      return parseJsonObjectText(p.kind.value, path);
    default:
      throw new JsonShapeError(path, "ContentPart has no kind set");
  }
}

function functionCallFromFields(f: Fields): FunctionCall {
  const id = f.idString("id");
  const callId = f.idString("call_id");
  const name = f.idString("name");
  const args = f.requiredString("arguments", "the JSON text of the call's arguments");
  const status = f.enumValue("status", ITEM_STATUSES);
  const tokens = tokensFromFields(f);
  return create(FunctionCallSchema, { id, callId, name, arguments: args, status, tokens, extraJson: f.extraJson() });
}

function functionCallToJson(c: FunctionCall, path: string): JsonObject {
  const out: JsonObject = {};
  put(out, "type", "function_call");
  if (c.id !== "") put(out, "id", c.id);
  if (c.callId !== "") put(out, "call_id", c.callId);
  if (c.name !== "") put(out, "name", c.name);
  put(out, "arguments", c.arguments);
  putEnum(out, "status", ITEM_STATUSES, c.status);
  tokensToJson(out, c.tokens);
  return withExtra(out, c.extraJson, path);
}

function functionCallOutputFromFields(f: Fields): FunctionCallOutput {
  const id = f.idString("id");
  const callId = f.idString("call_id");
  let output = "";
  if (Array.isArray(f.obj.output)) {
    // The API also allows a list of content parts here: kept verbatim in extra.
  } else {
    output = f.requiredString("output", "the tool's output");
  }
  const status = f.enumValue("status", ITEM_STATUSES);
  return create(FunctionCallOutputSchema, { id, callId, output, status, extraJson: f.extraJson() });
}

function functionCallOutputToJson(o: FunctionCallOutput, path: string): JsonObject {
  const out: JsonObject = {};
  put(out, "type", "function_call_output");
  if (o.id !== "") put(out, "id", o.id);
  if (o.callId !== "") put(out, "call_id", o.callId);
  put(out, "output", o.output);
  putEnum(out, "status", ITEM_STATUSES, o.status);
  return withExtra(out, o.extraJson, path);
}

/** A reasoning text part; its type is implied by its list (`summary_text` or `reasoning_text`). */
function reasoningTextFromJson(json: unknown, path: string, impliedType: string): ReasoningText {
  const obj = expectObject(json, path, "a reasoning text part");
  const f = new Fields(obj, path);
  if (!has(obj, "type")) throw new JsonShapeError(f.at("type"), `missing required key "type" ("${impliedType}")`);
  if (obj.type === impliedType) f.consume("type");
  const text = f.requiredString("text", "the reasoning text");
  return create(ReasoningTextSchema, { text, extraJson: f.extraJson() });
}

function reasoningTextToJson(t: ReasoningText, path: string, impliedType: string): JsonObject {
  return withExtra({ type: impliedType, text: t.text }, t.extraJson, path);
}

function reasoningFromFields(f: Fields): Reasoning {
  const id = f.idString("id");
  const summary = f
    .requiredList("summary", "summary parts")
    .map((p, i) => reasoningTextFromJson(p, index(f.at("summary"), i), "summary_text"));
  const content = f
    .nonEmptyList("content", "reasoning text parts")
    .map((p, i) => reasoningTextFromJson(p, index(f.at("content"), i), "reasoning_text"));
  const encryptedContent = f.idString("encrypted_content");
  const status = f.enumValue("status", ITEM_STATUSES);
  const tokens = tokensFromFields(f);
  return create(ReasoningSchema, { id, summary, content, encryptedContent, status, tokens, extraJson: f.extraJson() });
}

function reasoningToJson(r: Reasoning, path: string): JsonObject {
  const out: JsonObject = {};
  put(out, "type", "reasoning");
  if (r.id !== "") put(out, "id", r.id);
  put(out, "summary", r.summary.map((t, i) => reasoningTextToJson(t, index(key(path, "summary"), i), "summary_text")));
  if (r.content.length > 0) put(out, "content", r.content.map((t, i) => reasoningTextToJson(t, index(key(path, "content"), i), "reasoning_text")));
  if (r.encryptedContent !== "") put(out, "encrypted_content", r.encryptedContent);
  putEnum(out, "status", ITEM_STATUSES, r.status);
  tokensToJson(out, r.tokens);
  return withExtra(out, r.extraJson, path);
}

// ---------------------------------------------------------------------------
// Tools

export function toolFromJson(json: unknown, path = ""): Tool {
  const obj = expectObject(json, path, "a tool");
  if (has(obj, "type") && obj.type === "function") {
    return create(ToolSchema, { kind: { case: "function", value: functionToolFromJson(obj, path) } });
  }
  return create(ToolSchema, { kind: { case: "otherJson", value: jsonText(obj, path) } });
}

export function toolToJson(t: Tool, path = ""): JsonObject {
  switch (t.kind.case) {
    case "function":
      return functionToolToJson(t.kind.value, path);
    case "otherJson":
      return parseJsonObjectText(t.kind.value, path);
    default:
      throw new JsonShapeError(path, "Tool has no kind set");
  }
}

/** `{"type": "function", "name": ..., "parameters": {...}, ...}`; the type must be "function". */
export function functionToolFromJson(json: unknown, path = ""): FunctionTool {
  const obj = expectObject(json, path, "a function tool");
  if (obj.type !== "function") {
    throw new JsonShapeError(key(path, "type"), `a function tool must have "type": "function", got ${describe(obj.type)}`);
  }
  const f = new Fields(obj, path);
  f.consume("type");
  const name = f.idString("name");
  const description = f.optString("description");
  const p = f.take("parameters");
  if (p !== undefined && !isPlainObject(p)) {
    throw new JsonShapeError(f.at("parameters"), `expected a JSON schema object, got ${describe(p)}`);
  }
  const parametersJson = p === undefined ? "" : jsonText(p, f.at("parameters"));
  const strict = f.optBool("strict");
  return create(FunctionToolSchema, { name, description, parametersJson, strict, extraJson: f.extraJson() });
}

export function functionToolToJson(t: FunctionTool, path = ""): JsonObject {
  const out: JsonObject = {};
  put(out, "type", "function");
  if (t.name !== "") put(out, "name", t.name);
  if (t.description !== undefined) put(out, "description", t.description);
  if (t.parametersJson !== "") put(out, "parameters", parseJsonObjectText(t.parametersJson, key(path, "parameters_json")));
  if (t.strict !== undefined) put(out, "strict", t.strict);
  return withExtra(out, t.extraJson, path);
}

function toolsFromFields(f: Fields): Tool[] {
  return f.nonEmptyList("tools", "tools").map((t, i) => toolFromJson(t, index(f.at("tools"), i)));
}

function toolsToJson(out: JsonObject, tools: Tool[], path: string): void {
  if (tools.length > 0) put(out, "tools", tools.map((t, i) => toolToJson(t, index(key(path, "tools"), i))));
}

// ---------------------------------------------------------------------------
// Request params

/** The body of `POST /v1/responses`. */
export function paramsFromJson(json: unknown, path = ""): ResponseCreateParams {
  const obj = expectObject(json, path, "responses_create_params");
  const f = new Fields(obj, path);
  const rawInput = f.take("input");
  let input: ResponseCreateParams["input"] = { case: undefined };
  if (typeof rawInput === "string") {
    input = { case: "inputText", value: rawInput };
  } else if (Array.isArray(rawInput)) {
    const items = rawInput.map((it, i) => itemFromJson(it, index(f.at("input"), i)));
    input = { case: "inputItems", value: create(ItemListSchema, { items }) };
  } else if (rawInput !== undefined) {
    throw new JsonShapeError(f.at("input"), `input must be a string or an array of items, got ${describe(rawInput)}`);
  }
  const model = f.optString("model");
  const instructions = f.optString("instructions");
  const tools = toolsFromFields(f);
  const temperature = f.optNumber("temperature");
  const topP = f.optNumber("top_p");
  const maxOutputTokens = f.optInt32("max_output_tokens");
  const parallelToolCalls = f.optBool("parallel_tool_calls");
  const tc = f.take("tool_choice");
  const toolChoiceJson = tc === undefined ? "" : jsonText(tc, f.at("tool_choice"));
  return create(ResponseCreateParamsSchema, {
    input,
    model,
    instructions,
    tools,
    temperature,
    topP,
    maxOutputTokens,
    parallelToolCalls,
    toolChoiceJson,
    extraJson: f.extraJson(),
  });
}

export function paramsToJson(p: ResponseCreateParams, path = ""): JsonObject {
  const out: JsonObject = {};
  if (p.input.case === "inputText") {
    put(out, "input", p.input.value);
  } else if (p.input.case === "inputItems") {
    put(out, "input", p.input.value.items.map((it, i) => itemToJson(it, index(key(path, "input"), i))));
  }
  if (p.model !== undefined) put(out, "model", p.model);
  if (p.instructions !== undefined) put(out, "instructions", p.instructions);
  toolsToJson(out, p.tools, path);
  if (p.temperature !== undefined) put(out, "temperature", p.temperature);
  if (p.topP !== undefined) put(out, "top_p", p.topP);
  if (p.maxOutputTokens !== undefined) put(out, "max_output_tokens", p.maxOutputTokens);
  if (p.parallelToolCalls !== undefined) put(out, "parallel_tool_calls", p.parallelToolCalls);
  if (p.toolChoiceJson !== "") put(out, "tool_choice", parseJsonText(p.toolChoiceJson, key(path, "tool_choice_json")));
  return withExtra(out, p.extraJson, path);
}

// ---------------------------------------------------------------------------
// Responses

function usageFromJson(json: unknown, path: string): Usage {
  const f = new Fields(expectObject(json, path, "usage"), path);
  const inputTokens = f.requiredInt32("input_tokens", "a token count");
  const outputTokens = f.requiredInt32("output_tokens", "a token count");
  const totalTokens = f.requiredInt32("total_tokens", "a token count");
  return create(UsageSchema, { inputTokens, outputTokens, totalTokens, extraJson: f.extraJson() });
}

function usageToJson(u: Usage, path: string): JsonObject {
  const out: JsonObject = {};
  put(out, "input_tokens", u.inputTokens);
  put(out, "output_tokens", u.outputTokens);
  put(out, "total_tokens", u.totalTokens);
  return withExtra(out, u.extraJson, path);
}

/** A model response (`{"object": "response", ...}`). */
export function responseFromJson(json: unknown, path = ""): Response {
  const f = new Fields(expectObject(json, path, "a response"), path);
  const id = f.idString("id");
  const createdAt = f.optNumber("created_at");
  const model = f.idString("model");
  const status = f.enumValue("status", RESPONSE_STATUSES);
  const output = f.requiredList("output", "output items").map((it, i) => itemFromJson(it, index(f.at("output"), i)));
  const u = f.take("usage");
  const usage = u === undefined ? undefined : usageFromJson(u, f.at("usage"));
  const tools = toolsFromFields(f);
  return create(ResponseSchema, { id, createdAt, model, status, output, usage, tools, extraJson: f.extraJson() });
}

export function responseToJson(r: Response, path = ""): JsonObject {
  const out: JsonObject = {};
  if (r.id !== "") put(out, "id", r.id);
  if (r.createdAt !== undefined) put(out, "created_at", r.createdAt);
  if (r.model !== "") put(out, "model", r.model);
  putEnum(out, "status", RESPONSE_STATUSES, r.status);
  put(out, "output", r.output.map((it, i) => itemToJson(it, index(key(path, "output"), i))));
  if (r.usage) put(out, "usage", usageToJson(r.usage, key(path, "usage")));
  toolsToJson(out, r.tools, path);
  return withExtra(out, r.extraJson, path);
}

// ---------------------------------------------------------------------------
// Tasks

/** A NeMo Gym dataset row: `responses_create_params` plus any other fields (kept in `extra_json`). */
export function taskFromJson(row: unknown): Task {
  const obj = expectObject(row, "", "a task row");
  const f = new Fields(obj, "");
  const p = f.take("responses_create_params");
  if (p === undefined) {
    const why = has(obj, "responses_create_params") ? "is null" : "is missing";
    throw new JsonShapeError("responses_create_params", `a task row needs "responses_create_params" (the request to the model); it ${why}`);
  }
  const responsesCreateParams = paramsFromJson(p, "responses_create_params");
  return create(TaskSchema, { responsesCreateParams, extraJson: f.extraJson() });
}

export function taskToJson(t: Task): JsonObject {
  const out: JsonObject = {};
  if (t.responsesCreateParams) put(out, "responses_create_params", paramsToJson(t.responsesCreateParams, "responses_create_params"));
  return withExtra(out, t.extraJson, "");
}

/** The row's own fields (everything beside responses_create_params), parsed once per task. */
const taskExtras = new WeakMap<Task, JsonObject>();
export function taskExtra(t: Task): JsonObject {
  let extra = taskExtras.get(t);
  if (!extra) taskExtras.set(t, (extra = t.extraJson === "" ? {} : parseJsonObjectText(t.extraJson, "extra_json")));
  return extra;
}

/** A JSON object field (`extra_json`, `info_json`...) as an object; "" is {}. */
export function jsonObjectOf(text: string, path = "extra_json"): JsonObject {
  return text === "" ? {} : parseJsonObjectText(text, path);
}

/** A verdict's fields as NeMo Gym writes them beside the reward: the environment's own fields and `reward_components`. */
export function verdictFields(v: Verdict | undefined): JsonObject {
  if (!v) return {};
  const fields = jsonObjectOf(v.extraJson);
  if (Object.keys(v.rewardComponents).length > 0) fields.reward_components = { ...v.rewardComponents };
  return fields;
}
