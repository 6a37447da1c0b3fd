// ResourcesService: hosts one environment. Keeps per-session state, validates
// untrusted tool arguments and runs the verifier.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ResourcesService } from "../../gen/gym/v1/resources_pb.js";
import { FunctionToolSchema } from "../../gen/gym/v1/responses_pb.js";
import { VerdictSchema, type Task } from "../../gen/gym/v1/task_pb.js";
import { TaskSchema } from "../../gen/gym/v1/task_pb.js";
import { argumentsJsonSchema, type Environment } from "./environment.js";
import { pythonJsonDumps } from "./python-json.js";

interface Session {
  task: Task;
  state: unknown;
}

export function createResourcesService(env: Environment<any>): ServiceImpl<typeof ResourcesService> {
  const sessions = new Map<string, Session>();
  const tools = new Map(env.tools.map((t) => [t.name, t]));
  const toolDefs = env.tools.map((t) =>
    create(FunctionToolSchema, {
      name: t.name,
      description: t.description,
      parameters: argumentsJsonSchema(t),
      strict: true,
    }),
  );

  const session = (id: string): Session => {
    const found = sessions.get(id);
    if (!found) throw new ConnectError(`${env.name}: no session "${id}" (seed one with SeedSession)`, Code.NotFound);
    return found;
  };

  return {
    seedSession(req) {
      const task = req.task ?? create(TaskSchema);
      const sessionId = randomUUID();
      sessions.set(sessionId, { task, state: env.createState?.(task) });
      return { sessionId };
    },

    listTools() {
      return { tools: toolDefs };
    },

    async callTool(req) {
      const { task, state } = session(req.sessionId);
      const tool = tools.get(req.name);
      if (!tool) {
        throw new ConnectError(`${env.name}: unknown tool "${req.name}" (tools: ${[...tools.keys()].join(", ")})`, Code.NotFound);
      }
      let args: unknown;
      try {
        args = JSON.parse(req.arguments || "{}");
      } catch (err) {
        throw new ConnectError(`tool ${req.name}: arguments are not valid JSON: ${(err as Error).message}`, Code.InvalidArgument);
      }
      const parsed = tool.args.safeParse(args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const where = issue.path.length ? issue.path.join(".") : "(arguments)";
        throw new ConnectError(`tool ${req.name}: ${where}: ${issue.message}`, Code.InvalidArgument);
      }
      const output = await (tool.run as (a: unknown, c: unknown) => unknown)(parsed.data, { task, state });
      return { output: typeof output === "string" ? output : pythonJsonDumps(output) };
    },

    async verify(req) {
      if (!req.response) throw new ConnectError(`${env.name}: verify needs the response`, Code.InvalidArgument);
      const found = req.sessionId ? session(req.sessionId) : undefined;
      const task = req.task ?? found?.task ?? create(TaskSchema);
      const result = await env.verify({ task, response: req.response, state: found?.state });
      return { verdict: create(VerdictSchema, { reward: result.reward, extra: result.extra }) };
    },

    closeSession(req) {
      sessions.delete(req.sessionId);
      return {};
    },
  };
}
