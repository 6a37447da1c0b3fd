// example_multi_step, ported from NeMo Gym: the model looks up the value of
// each relevant synonym (get_synonym_value: the sum of the code points of the
// synonym) and reports them, in order, with extract_synonym_values. The
// verifier compares the last reported list with the row's expected values.
import { z } from "zod";
import { defineEnvironment, defineTool, invalidInput, laxInt, taskFields } from "../../resources/environment.js";
import { pyEquals, pyIn, pySetOverlap } from "../../pycompat/values.js";
import type { Item } from "../../../gen/gymmesh/v1/responses_pb.js";

const NAME = "example_multi_step";

const synonymArgs = z.object({ synonym: z.string().meta({ title: "Synonym", description: "The synonym to get the value for." }) });
const extractArgs = z.object({
  synonym_values: z
    .array(laxInt())
    .meta({ title: "Synonym Values", description: "The synonym values corresponding to the term for the user query." }),
});

const returns = (schema: string) => `\nThis operation returns a value that conforms to the following JSON Schema: ${schema}\n`;

const getSynonymValue = defineTool<unknown, typeof synonymArgs>({
  name: "get_synonym_value",
  description:
    "Get the synonym value for a synonym." +
    returns('{"properties": {"synonym_value": {"type": "integer", "title": "Synonym Value", "description": "The value for this synonym."}}, "type": "object", "required": ["synonym_value"]}'),
  args: synonymArgs,
  // Python's sum(map(ord, s)) counts code points, not UTF-16 units.
  run: ({ synonym }) => ({ synonym_value: [...synonym].reduce((sum, ch) => sum + ch.codePointAt(0)!, 0) }),
});

const extractSynonymValues = defineTool<unknown, typeof extractArgs>({
  name: "extract_synonym_values",
  description:
    "Extract the synonym values you retrieved for the term that is relevant to the user query." +
    returns('{"properties": {"success": {"type": "boolean", "title": "Success", "description": "Success."}}, "type": "object", "required": ["success"]}'),
  args: extractArgs,
  run: () => ({ success: true }),
});

const TaskData = z.object({
  id: laxInt(),
  expected_synonym_values: z.array(laxInt()),
  expected_synonyms: z.array(z.string()),
  minefield_label: z.string(),
  minefield_label_value: laxInt(),
});

/** The instance's settings: NeMo Gym's server config fields that change what verify reads. */
export const exampleMultiStepSettings = z.strictObject({
  /**
   * NeMo Gym's `expose_tools_over_mcp`: the tools are also served over MCP,
   * whose clients name them `mcp__<server_name>__<tool>`; verify then strips
   * that prefix from the response's function calls. Off (NeMo Gym's default):
   * names are compared as they are.
   */
  expose_tools_over_mcp: z.boolean().default(false),
  /** The server instance name MCP clients namespace the tools with (NeMo Gym's `config.name`: the shipped config's instance). */
  server_name: z.string().min(1).default("example_multi_step_resources_server"),
});
export type ExampleMultiStepSettings = z.infer<typeof exampleMultiStepSettings>;

/**
 * The tool name verify compares: NeMo Gym normalizes function-call names
 * only for a server exposed over MCP, and only its own `mcp__<server>__`
 * namespace (normalize_tool_name with the server's name).
 */
export function bareToolName(name: string, settings: ExampleMultiStepSettings): string {
  if (!settings.expose_tools_over_mcp) return name;
  const prefix = `mcp__${settings.server_name}__`;
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** The synonym_values of the last extract_synonym_values call, or [] when there is none. */
function lastExtracted(output: Item[], settings: ExampleMultiStepSettings): { values: unknown; where: string } {
  for (let i = output.length - 1; i >= 0; i--) {
    const item = output[i]!;
    if (item.kind.case !== "functionCall" || bareToolName(item.kind.value.name, settings) !== "extract_synonym_values") continue;
    const where = `response.output[${i}].arguments`;
    let args: unknown;
    try {
      args = JSON.parse(item.kind.value.arguments);
    } catch (err) {
      throw invalidInput(where, `not valid JSON: ${(err as Error).message}`);
    }
    if (!args || typeof args !== "object" || Array.isArray(args) || !Object.hasOwn(args, "synonym_values")) {
      throw invalidInput(where, 'needs an object with "synonym_values"');
    }
    return { values: (args as Record<string, unknown>).synonym_values, where: `${where}.synonym_values` };
  }
  return { values: [], where: "" };
}

const exampleMultiStep = defineEnvironment({
  name: NAME,
  description: "Multi-step tool use: look up synonym values, then extract them in order",
  tools: [getSynonymValue, extractSynonymValues],
  taskSchema: TaskData,
  settings: exampleMultiStepSettings,
  verify: ({ task, response, settings }) => {
    const row = taskFields(task, TaskData);
    const expected = row.expected_synonym_values;
    const { values: actual, where } = lastExtracted(response.output, settings);
    // NeMo Gym types parsed_synonym_values as List[int]: anything else fails the verify.
    const parsed = z.array(laxInt()).safeParse(actual);
    if (!parsed.success) throw invalidInput(where, `must be a list of integers, got ${JSON.stringify(actual)}`);
    if (expected.length === 0) throw invalidInput("task.expected_synonym_values", "is empty (the overlap divides by its length)");
    // Every element is a number, boolean or integer string here, so all are hashable.
    const list = actual as unknown[];
    const overlap = pySetOverlap(list, expected) / expected.length;
    const accuracy = pyEquals(expected, list);
    return {
      reward: accuracy ? 1 : 0,
      extra: {
        parsed_synonym_values: parsed.data,
        accuracy,
        set_overlap: overlap,
        original_term_minefield_hit: pyIn(row.minefield_label, list) || pyIn(row.minefield_label_value, list),
        order_instruction_following_failure: !accuracy && overlap === 1,
      },
    };
  },
});

export default exampleMultiStep;
