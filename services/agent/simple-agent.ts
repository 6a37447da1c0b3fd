// NeMo Gym's simple_agent: seed a session, then call the model and run its
// tool calls until it answers without calling a tool (or the step limit),
// then verify. The trajectory is every output item of every step.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { ModelService } from "../../gen/gym/v1/model_pb.js";
import type { ResourcesService } from "../../gen/gym/v1/resources_pb.js";
import {
  ItemListSchema,
  ItemSchema,
  ResponseCreateParamsSchema,
  ResponseSchema,
  UsageSchema,
  type FunctionCall,
  type Item,
  type Response,
  type ResponseCreateParams,
  type Usage,
} from "../../gen/gym/v1/responses_pb.js";
import { RolloutSchema, type Rollout, type Task } from "../../gen/gym/v1/task_pb.js";
import { pythonJsonDumps } from "../resources/python-json.js";
import { log } from "../mesh/log.js";

export interface AgentDeps {
  name: string;
  model: Client<typeof ModelService>;
  resources: Client<typeof ResourcesService>;
  /** Model calls per rollout; 0 means no limit. */
  maxSteps: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called with each output item (model output or tool output) as it happens. */
  onItem?: (item: Item) => void;
}

export async function runSimpleAgent(deps: AgentDeps, task: Task, rolloutId: string, options: RunOptions = {}): Promise<Rollout> {
  const params = task.responsesCreateParams;
  if (!params) throw new ConnectError("task has no responses_create_params", Code.InvalidArgument);
  rolloutId ||= randomUUID();
  const call = { signal: options.signal, timeoutMs: options.timeoutMs };
  const timings = { modelMs: 0, toolsMs: 0, verifyMs: 0, totalMs: 0 };
  const started = performance.now();
  const timed = async <T>(key: "modelMs" | "toolsMs" | "verifyMs", work: Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work;
    } finally {
      timings[key] += performance.now() - t0;
    }
  };

  const { sessionId } = await deps.resources.seedSession({ task, requestId: rolloutId }, call);
  try {
    const input = inputItems(params.input);
    const outputs: Item[] = [];
    const emit = (item: Item) => {
      outputs.push(item);
      options.onItem?.(item);
    };
    let last: Response | undefined;
    const usage = create(UsageSchema);
    let steps = 0;

    for (;;) {
      steps++;
      const request = create(ResponseCreateParamsSchema, {
        ...params,
        input: { case: "inputItems", value: create(ItemListSchema, { items: [...input, ...outputs] }) },
      });
      const { response } = await timed("modelMs", deps.model.createResponse({ params: request, requestId: rolloutId }, call));
      if (!response) throw new ConnectError(`${deps.name}: the model returned no response`, Code.Internal);
      last = response;
      addUsage(usage, response.usage);
      response.output.forEach(emit);

      const calls = response.output.flatMap((i) => (i.kind.case === "functionCall" ? [i.kind.value] : []));
      const answered = response.output.some((i) => i.kind.case === "message" && i.kind.value.role === "assistant");
      if (calls.length === 0 && (answered || response.output.length === 0)) break;
      for (const fc of calls) emit(await timed("toolsMs", runTool(deps, sessionId, fc, call)));
      if (deps.maxSteps > 0 && steps >= deps.maxSteps) break;
    }

    const final = create(ResponseSchema, { ...last, output: outputs, usage });
    const { verdict } = await timed("verifyMs", deps.resources.verify({ sessionId, task, response: final }, call));
    timings.totalMs = performance.now() - started;
    log.info("rollout_done", { agent: deps.name, rollout_id: rolloutId, steps, reward: verdict?.reward, ms: Math.round(timings.totalMs) });
    return create(RolloutSchema, { rolloutId, task, response: final, verdict, steps, timings });
  } finally {
    // Sessions are closed on success and failure alike; a failure to close is only logged.
    deps.resources.closeSession({ sessionId }).catch((err: Error) =>
      log.warn("close_session_failed", { agent: deps.name, rollout_id: rolloutId, message: err.message }),
    );
  }
}

/**
 * Runs one tool call. An unknown tool or bad arguments are the model's
 * mistake: the error goes back to the model as the tool's output, as NeMo
 * Gym's agent does. Any other failure fails the rollout.
 */
async function runTool(deps: AgentDeps, sessionId: string, fc: FunctionCall, call: { signal?: AbortSignal; timeoutMs?: number }): Promise<Item> {
  let output: string;
  try {
    ({ output } = await deps.resources.callTool({ sessionId, name: fc.name, arguments: fc.arguments, callId: fc.callId }, call));
  } catch (err) {
    const error = ConnectError.from(err);
    if (error.code !== Code.NotFound && error.code !== Code.InvalidArgument) throw error;
    output = pythonJsonDumps({ error: error.rawMessage });
  }
  return create(ItemSchema, { kind: { case: "functionCallOutput", value: { callId: fc.callId, output } } });
}

/** The request input as items; a plain string is one user message. */
function inputItems(input: ResponseCreateParams["input"]): Item[] {
  if (input.case === "inputItems") return input.value.items;
  if (input.case === "inputText") {
    return [create(ItemSchema, { kind: { case: "message", value: { role: "user", content: { case: "text", value: input.value }, untyped: true } } })];
  }
  return [];
}

function addUsage(total: Usage, step: Usage | undefined): void {
  if (!step) return;
  total.inputTokens += step.inputTokens;
  total.outputTokens += step.outputTokens;
  total.totalTokens += step.totalTokens;
}
