// `gym new-env NAME`: scaffolds an environment that runs at once: its module
// (one tool, a verifier), example data, verifier cases, a README and a test,
// served by config/environments.yaml (NAME and NAME_simple_agent). The
// registry finds the new folder by itself: no list to edit.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "../mesh/errors.js";
import { PACKAGE_ROOT } from "../app/package-root.js";

export const REPO_ROOT = PACKAGE_ROOT;

export interface Scaffold {
  dir: string;
  files: string[];
}

export function scaffoldEnvironment(name: string, root = REPO_ROOT): Scaffold {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new ConfigError(`new-env: "${name}" is not a snake_case name (a-z, 0-9, _; a letter first)`);
  const envsDir = path.join(root, "services", "environments");
  const dir = path.join(envsDir, name);
  if (fs.existsSync(dir)) throw new ConfigError(`new-env: ${path.relative(root, dir)} already exists`);
  const config = path.join(root, "config", "environments.yaml");
  const exportName = camel(name);
  const configText = addToConfig(fs.readFileSync(config, "utf8"), name);

  const files: Record<string, string> = {
    "environment.ts": environmentModule(name, exportName),
    "environment.test.ts": testModule(name, exportName),
    "README.md": readme(name),
    "data/example.jsonl": exampleRows().map((r) => JSON.stringify(r)).join("\n") + "\n",
    "data/verify_cases.jsonl": verifyCases().map((r) => JSON.stringify(r)).join("\n") + "\n",
  };
  fs.mkdirSync(path.join(dir, "data"), { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  fs.writeFileSync(config, configText);
  return { dir, files: [...Object.keys(files).map((f) => path.join(dir, f)), config] };
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Adds NAME (resources) and NAME_simple_agent to the instances, before the rollout instance. */
function addToConfig(text: string, name: string): string {
  const doc = parseDocument(text);
  if (doc.hasIn(["instances", name]) || doc.hasIn(["instances", `${name}_simple_agent`])) {
    throw new ConfigError(`new-env: config/environments.yaml already has an instance named ${name}`);
  }
  const instances = doc.get("instances") as { items: { key: { value: string } }[] } | undefined;
  const model = instances?.items.map((i) => i.key.value).find((k) => (doc.getIn(["instances", k, "kind"]) as string) === "model");
  if (!model) throw new ConfigError("new-env: config/environments.yaml has no model instance for the new agent");
  doc.setIn(["instances", name], doc.createNode({ kind: "resources", environment: name }));
  doc.setIn(["instances", `${name}_simple_agent`], doc.createNode({ kind: "agent", agent: "simple_agent", model, resources: name }));
  return doc.toString();
}

function environmentModule(name: string, exportName: string): string {
  return `// ${name}: TODO say what this environment trains. Scaffolded by \`gym new-env\`:
// one tool that looks the answer up, and a verifier that rewards a final
// answer containing the row's expected_answer. Replace both with your own.
import { z } from "zod";
import { defineEnvironment, defineTool, taskFields } from "../../resources/environment.js";
import { lastAssistantText } from "../../openai/response-text.js";

/** The row's own fields (beside responses_create_params). */
const TaskData = z.object({ expected_answer: z.string().min(1) });

const lookupArgs = z.object({ question: z.string().describe("The question to look up.") });

const lookup = defineTool<unknown, typeof lookupArgs>({
  name: "lookup",
  description: "Look up the answer to a question.",
  args: lookupArgs,
  run: (_args, { task }) => ({ answer: taskFields(task, TaskData).expected_answer }),
});

const ${exportName} = defineEnvironment({
  name: "${name}",
  description: "TODO: what this environment trains",
  tools: [lookup],
  taskSchema: TaskData,
  verify: ({ task, response }) => {
    const { expected_answer } = taskFields(task, TaskData);
    const answer = lastAssistantText(response);
    return { reward: answer.includes(expected_answer) ? 1 : 0, extra: { final_answer: answer } };
  },
});

// The registry finds this folder and takes its default export.
export default ${exportName};
`;
}

function testModule(name: string, exportName: string): string {
  return `import * as fs from "node:fs";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskFromJson } from "../../openai/responses-json.js";
import { hostClient } from "../../resources/verify-cases.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import ${exportName} from "./environment.js";

const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\\n")
  .map((l) => JSON.parse(l));
const resources = hostClient(${exportName});

describe("${name} tools", () => {
  it("answer good arguments and reject bad ones with the reason", async () => {
    const { sessionId } = await resources.seedSession({ task: taskFromJson(rows[0]) });
    const call = (args: string) => resources.callTool({ sessionId, name: "lookup", arguments: args });
    expect(JSON.parse((await call('{"question": "?"}')).output)).toEqual({ answer: rows[0].expected_answer });
    await expect(call("{}")).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("question") });
    await expect(call("{oops")).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("not valid JSON") });
  });
});

describe("${name} through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    env = await startEnvironmentMesh("${name}");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model calls lookup, then answers with the tool's output.
  it("runs a rollout end to end and rewards it", async () => {
    const { rollout } = await env.agent("${name}_simple_agent").run({ input: { case: "task", value: taskFromJson(rows[0]) } });
    expect(rollout!.response!.output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
    expect(rollout!.verdict!.reward).toBe(1);
  });
});
`;
}

function readme(name: string): string {
  return `# ${name}

TODO: what this environment trains, where its data comes from.

## Tools

- \`lookup(question)\`: returns the row's expected answer (replace with your own tools).

## Scoring

Reward 1.0 when the last assistant message contains the row's \`expected_answer\`, else 0.0.
Extra field: \`final_answer\`.

## Files

- \`environment.ts\`: tools, task schema, verifier.
- \`data/example.jsonl\`: task rows (\`responses_create_params\` plus \`expected_answer\`).
- \`data/verify_cases.jsonl\`: rows, responses and the reward or error each must give
  (run by services/environments/verify-cases.test.ts).

## Run

\`\`\`sh
npx gym check-data --env ${name} services/environments/${name}/data/example.jsonl
npx gym collect --config config/environments.yaml --agent ${name}_simple_agent \\
  --input services/environments/${name}/data/example.jsonl --output out/${name}.jsonl
\`\`\`
`;
}

const TOOL = {
  type: "function",
  name: "lookup",
  description: "Look up the answer to a question.",
  parameters: {
    type: "object",
    properties: { question: { type: "string", description: "The question to look up." } },
    required: ["question"],
    additionalProperties: false,
  },
  strict: true,
};

function exampleRows() {
  return [
    ["What is the capital of France?", "Paris"],
    ["What is 6 times 7?", "42"],
    ["Which planet is the largest?", "Jupiter"],
  ].map(([question, answer]) => ({
    responses_create_params: { input: [{ role: "user", content: question }], tools: [TOOL] },
    expected_answer: answer,
  }));
}

function verifyCases() {
  const task = exampleRows()[0];
  const answer = (text: string) => ({
    id: "resp_case",
    object: "response",
    output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] }],
  });
  return [
    { name: "names the expected answer", kind: "full_reward", task, response: answer("It is Paris."), expected_reward: 1 },
    { name: "another answer", kind: "zero_reward", task, response: answer("It is Lyon."), expected_reward: 0 },
    {
      name: "row without expected_answer",
      kind: "malformed",
      task: { responses_create_params: task.responses_create_params },
      response: answer("Paris"),
      expected_error: { code: "invalid_argument", message: "expected_answer" },
    },
  ];
}
