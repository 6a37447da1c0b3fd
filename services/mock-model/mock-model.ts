// STAND-IN: the built-in mock model. No model weights can run here, so this is
// a small OpenAI-compatible HTTP server (`POST /v1/responses`, `POST
// /v1/chat/completions`, both streaming, `GET /v1/models`) whose answers are
// scripted (script.ts, with seeded draws that skip tools or answer wrong:
// random.ts), or replayed from recorded rollouts of a real model (replay.ts)
// when it is given some, with token ids on both APIs when asked (tokens.ts).
// Knobs add latency, errors, stalls and connection resets (faults.ts); a
// request can override them with the `x-mock-knobs` header. It counts what it
// saw and emits "request" and "aborted" events, so tests can check retries
// and cancellation.
import { EventEmitter } from "node:events";
import type { Http2ServerRequest } from "node:http2";
import { constants as h2 } from "node:http2";
import type { JsonObject } from "@bufbuild/protobuf";
import type { HttpHandler } from "../mesh/serve.js";
import { chatCompletionFromResponse, paramsFromChatRequest } from "../openai/chat-face.js";
import {
  HttpError,
  pathOf,
  readJsonBody,
  sendError,
  sendFailure,
  sendJson,
  startSse,
  whenClientGone,
  writeSse,
  type HttpRequest,
  type HttpResponse,
} from "../mesh/http-io.js";
import { ResponsesSseEncoder } from "../openai/responses-sse.js";
import { eventsOfResponse, isObject } from "../openai/backend.js";
import { chatAnswer, turnOfCompletion } from "./chat.js";
import { DEFAULT_KNOBS, FaultPlan, KNOBS_HEADER, knobsFromHeader, latencyOf, type MockKnobs } from "./faults.js";
import { MOCK_MODEL_NAME, scriptedChatTurn, scriptedResponse, type ScriptedTurn } from "./script.js";
import type { ReplayBook } from "./replay.js";
import { withResponsesTokens } from "./tokens.js";

export { MOCK_MODEL_NAME, scriptedResponse } from "./script.js";

export interface MockModelOptions {
  knobs?: Partial<MockKnobs>;
  /** Recorded rollouts to answer from. */
  replay?: ReplayBook;
  /**
   * A conversation the replay does not know at all: "error" answers 404,
   * "script" lets the script answer. A conversation that starts like a
   * recording and then goes elsewhere is always a 404.
   */
  unknown?: "error" | "script";
}

export interface MockStats {
  /** API requests received (model list aside). */
  requests: number;
  answered: number;
  replayed: number;
  errors: number;
  stalls: number;
  resets: number;
  /** Requests whose client went away before the answer was finished. */
  aborted: number;
  /** Requests being answered now, and the most at once so far. */
  inFlight: number;
  peakInFlight: number;
}

export interface MockRequestEvent {
  path: string;
  body: JsonObject;
  headers: Record<string, string | string[] | undefined>;
}

export class MockModel extends EventEmitter {
  readonly knobs: MockKnobs;
  readonly stats: MockStats = { requests: 0, answered: 0, replayed: 0, errors: 0, stalls: 0, resets: 0, aborted: 0, inFlight: 0, peakInFlight: 0 };
  /** The plain HTTP handler; mount it as a server's fallback. */
  readonly handler: HttpHandler = (req, res) => void this.handle(req, res);
  private readonly plans = new Map<string, FaultPlan>();

  constructor(private readonly options: MockModelOptions = {}) {
    super();
    this.knobs = { ...DEFAULT_KNOBS, ...options.knobs };
  }

  private async handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    const path = pathOf(req);
    try {
      if (req.method === "GET" && path === "/v1/models") {
        return sendJson(res, 200, { object: "list", data: [{ id: MOCK_MODEL_NAME, object: "model", created: 0, owned_by: "gym-mesh-mock" }] });
      }
      if (req.method !== "POST" || (path !== "/v1/responses" && path !== "/v1/chat/completions")) {
        throw new HttpError(404, `no route ${req.method} ${path}`, "not_found_error");
      }
      const body = await readJsonBody(req);
      if (!isObject(body)) throw new HttpError(400, "body must be a JSON object");
      const header = req.headers[KNOBS_HEADER];
      const overrides = typeof header === "string" ? header : "";
      let knobs = this.knobs;
      if (overrides !== "") {
        try {
          knobs = knobsFromHeader(overrides, this.knobs);
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
      }

      this.stats.requests++;
      this.stats.peakInFlight = Math.max(this.stats.peakInFlight, ++this.stats.inFlight);
      res.once("close", () => this.stats.inFlight--);
      this.emit("request", { path, body, headers: req.headers } satisfies MockRequestEvent);
      let gone = false;
      whenClientGone(res, () => {
        gone = true;
        this.stats.aborted++;
        this.emit("aborted", { path, body, headers: req.headers } satisfies MockRequestEvent);
      });

      let plan = this.plans.get(overrides);
      if (!plan) this.plans.set(overrides, (plan = new FaultPlan()));
      const fault = plan.pick(knobs);
      if (fault === "reset") {
        this.stats.resets++;
        return resetConnection(req);
      }
      if (fault === "stall") {
        this.stats.stalls++;
        await waitOrGone(res, knobs.stallMs);
      }
      const delay = latencyOf(knobs);
      if (delay > 0 && !gone) await waitOrGone(res, delay);
      if (gone) return;
      if (fault === "error") {
        this.stats.errors++;
        const headers: Record<string, string> = knobs.retryAfterS !== undefined ? { "retry-after": String(knobs.retryAfterS) } : {};
        const type = knobs.errorStatus === 429 ? "rate_limit_error" : knobs.errorStatus >= 500 ? "server_error" : "invalid_request_error";
        // A 401 quotes the key it was given, as some real servers do: the mesh must not pass it on.
        const auth = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
        const message = knobs.errorStatus === 401 ? `Incorrect API key provided: ${auth}` : `mock model: injected error (status ${knobs.errorStatus})`;
        return sendError(res, knobs.errorStatus, message, type, headers);
      }
      if (path === "/v1/responses") this.answerResponses(body, knobs, res);
      else this.answerChat(body, knobs, res);
    } catch (err) {
      sendFailure(res, err);
    }
  }

  private answerResponses(body: JsonObject, knobs: MockKnobs, res: HttpResponse): void {
    const replayed = this.replayed(body);
    if (replayed && "error" in replayed) return sendError(res, 404, replayed.error, "not_found_error");
    let response = replayed?.response ?? scriptedResponse(body, knobs);
    // The Responses API has no token ids; the mock honours vLLM's request field here too.
    if (knobs.tokenIds && body.return_token_ids === true) response = withResponsesTokens(body, response);
    this.stats.answered++;
    if (body.stream !== true) return sendJson(res, 200, response);
    const encoder = new ResponsesSseEncoder();
    startSse(res);
    for (const event of eventsOfResponse(response)) for (const e of encoder.encode(event)) writeSse(res, e, String(e.type));
    res.end();
  }

  private answerChat(body: JsonObject, knobs: MockKnobs, res: HttpResponse): void {
    let turn: ScriptedTurn;
    let model = MOCK_MODEL_NAME;
    const replayed = this.options.replay ? this.replayed(paramsFromChatRequest(body)) : undefined;
    if (replayed && "error" in replayed) return sendError(res, 404, replayed.error, "not_found_error");
    if (replayed) {
      turn = turnOfCompletion(chatCompletionFromResponse(replayed.response));
      model = String(replayed.response.model ?? model);
    } else {
      turn = scriptedChatTurn(body, knobs);
      if (typeof body.model === "string") model = body.model;
    }
    const { completion, chunks } = chatAnswer(body, turn, { thinkTags: knobs.reasoning === "think_tags", model, tokenIds: knobs.tokenIds });
    this.stats.answered++;
    if (body.stream !== true) return sendJson(res, 200, completion);
    startSse(res);
    for (const chunk of chunks) writeSse(res, chunk);
    writeSse(res, "[DONE]");
    res.end();
  }

  /** The replay's answer: a response, an error to send, or undefined for the script. */
  private replayed(params: JsonObject): { response: JsonObject } | { error: string } | undefined {
    const book = this.options.replay;
    if (!book) return undefined;
    const answer = book.answer(params);
    if (answer.kind === "hit") {
      this.stats.replayed++;
      return { response: answer.response };
    }
    if (answer.kind === "unknown" && this.options.unknown === "script") return undefined;
    return { error: answer.message };
  }
}

export function createMockModel(options: MockModelOptions = {}): MockModel {
  return new MockModel(options);
}

function resetConnection(req: HttpRequest): void {
  const stream = (req as Http2ServerRequest).stream;
  if (stream && typeof stream.close === "function") stream.close(h2.NGHTTP2_INTERNAL_ERROR);
  else req.socket.destroy();
}

/** Waits `ms` (0: until the client goes away), or less if the client goes away first. */
function waitOrGone(res: HttpResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.removeListener("close", done);
      resolve();
    };
    const timer = ms > 0 ? setTimeout(done, ms) : undefined;
    res.once("close", done);
  });
}
