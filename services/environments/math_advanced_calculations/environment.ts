// math_advanced_calculations, ported from NeMo Gym 0.7.0: an alternate
// universe where add adds 1.2 more, sin is cos, pi is e... The model must use
// the given calculator tools (never its own arithmetic) to get each value the
// task asks for; the reward is 1.0 when every ground-truth value is among the
// tools' outputs in the response.
import { Code, ConnectError } from "@connectrpc/connect";
import { z } from "zod";
import { pyFloatFromString } from "../../pycompat/numbers.js";
import { JSONDecodeError, pyJsonLoads } from "../../pycompat/json-loads.js";
import { pyIn } from "../../pycompat/values.js";
import { defineEnvironment, defineTool, invalidInput, laxInt, taskFields, type Tool } from "../../resources/environment.js";
import { ARG_NAMES, callOperation, OPERATIONS, PyRaised, solutionBody, type ArgName } from "./calculator.js";

/**
 * The release's request model reads every argument as a pydantic
 * `Optional[float]`: numbers, booleans and number strings; null counts as not
 * given. Anything else is refused (HTTP 422 there, INVALID_ARGUMENT here).
 */
function pydanticFloat(tool: string, key: string, v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  let why = "Input should be a valid number";
  if (typeof v === "string") {
    const parsed = pydanticFloatString(v);
    if (parsed !== undefined) return parsed;
    why += ", unable to parse string as a number";
  }
  throw new ConnectError(`tool ${tool}: ${key}: ${why}`, Code.InvalidArgument);
}

const RUST_FLOAT = /^[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)$/i;

/**
 * A string as pydantic-core reads a float: with `_` in it, only single
 * underscores inside the text, dropped, and no trimming; else surrounding
 * whitespace trimmed. Then Rust's f64 grammar (ASCII digits, inf, infinity,
 * nan). Not Python's float(): " 1_000" is refused, "In_f" is infinity.
 */
export function pydanticFloatString(s: string): number | undefined {
  let t: string;
  if (s.includes("_")) {
    if (s.startsWith("_") || s.endsWith("_") || s.includes("__")) return undefined;
    t = s.replace(/_/g, "");
  } else {
    t = s.trim();
  }
  if (!RUST_FLOAT.test(t)) return undefined;
  const lower = t.toLowerCase();
  const body = lower.replace(/^[+-]/, "");
  if (body === "nan") return NaN;
  if (body.startsWith("inf")) return lower.startsWith("-") ? -Infinity : Infinity;
  return Number(t);
}

const DESCRIPTIONS: Record<string, string> = {
  add: "Add two numbers; a + b.",
  subtract: "Subtract two numbers; a - b.",
  multiply: "Multiply two numbers; a * b.",
  divide: "Divide two numbers; a / b. Division is neither commutative nor associative.",
  sin: "The sine of an angle in radians.",
  cos: "The cosine of an angle in radians.",
  power: "Raise a number to a power; a ** b.",
  log: "Take the log of a number; log(a, base). The base is always positive in this alternate universe.",
  pi: "Returns a precise value of PI for this alternate universe.",
  negate: "Negate a number; -a.",
  return_constant: "Return a constant number: a with no modifications",
};

// Every tool takes the release's one request model (a, b, radians, base, all
// optional floats; other keys ignored), so the arguments are read in run():
// which of them the operation needs is checked when it is called, with
// Python's TypeError messages. The schema offered is the dataset's.
const PARAM_DESCRIPTIONS: Record<string, Record<string, string>> = {
  add: { a: "First number to add", b: "Second number to add" },
  subtract: { a: "Number to subtract from", b: "Number to subtract" },
  multiply: { a: "First number to multiply", b: "Second number to multiply" },
  divide: { a: "Numerator", b: "Denominator" },
  sin: { radians: "Angle in radians" },
  cos: { radians: "Angle in radians" },
  power: { a: "Base number", b: "Exponent" },
  log: { a: "Number to take the logarithm of", base: "Base of the logarithm" },
  pi: {},
  negate: { a: "Number to negate" },
  return_constant: { a: "Number to return" },
};

function argsSchema(name: string) {
  const params = PARAM_DESCRIPTIONS[name]!;
  const properties = Object.fromEntries(Object.entries(params).map(([k, description]) => [k, { type: "number", description }]));
  return z.looseObject({}).meta({ properties, required: Object.keys(params) });
}

/**
 * One calculator tool. Its output is the release's HTTP body,
 * `{"solution":5.2}`; where the release answers HTTP 500 (a math error, a
 * wrong set of arguments) the call fails with the release's detail text.
 */
function calculatorTool(name: string): Tool<unknown> {
  const args = argsSchema(name);
  return defineTool<unknown, typeof args>({
    name,
    description: DESCRIPTIONS[name]!,
    args,
    run: (raw) => {
      const request: Partial<Record<ArgName, number>> = {};
      for (const key of ARG_NAMES) request[key] = pydanticFloat(name, key, (raw as Record<string, unknown>)[key]);
      try {
        return solutionBody(callOperation(name, request));
      } catch (err) {
        if (err instanceof PyRaised) throw new ConnectError(err.message, Code.Internal);
        throw err;
      }
    },
  });
}

const TaskData = z.object({
  // A JSON list of the expected floats, as text (the release json.loads it).
  ground_truth: z.string(),
  id: laxInt(),
  depth: laxInt(),
  breadth: laxInt(),
});

/** Python's `for gt in json.loads(ground_truth)`: a list, a string's characters, a dict's keys; else TypeError. */
function groundTruthValues(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = pyJsonLoads(text);
  } catch (err) {
    if (err instanceof JSONDecodeError) throw invalidInput("task.ground_truth", `not JSON: ${err.message}`);
    throw err;
  }
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === "string") return [...parsed];
  if (parsed !== null && typeof parsed === "object") return Object.keys(parsed);
  const type = parsed === null ? "NoneType" : typeof parsed === "boolean" ? "bool" : Number.isInteger(parsed) ? "int" : "float";
  throw invalidInput("task.ground_truth", `'${type}' object is not iterable`);
}

/**
 * Python's json module returns one and the same float object for every NaN
 * literal it parses, and `in` tests identity before ==: a ground-truth NaN is
 * found when an output's solution is a JSON NaN literal, never otherwise
 * (float("nan") is another object).
 */
const JSON_NAN = Symbol("json NaN");
type Predicted = number | null | typeof JSON_NAN;

/** float(json.loads(output)["solution"]) of one tool output, or null where that raises (as the release's verify does). */
function solutionOf(output: string): Predicted {
  let body: unknown;
  try {
    body = pyJsonLoads(output);
  } catch {
    return null;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body) || !Object.hasOwn(body, "solution")) return null;
  const v = (body as Record<string, unknown>).solution;
  if (typeof v === "number") return Number.isNaN(v) ? JSON_NAN : v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    try {
      return pyFloatFromString(v);
    } catch {
      return null;
    }
  }
  return null;
}

/** `gt in predicted` for a value of json.loads(ground_truth). */
function found(gt: unknown, predicted: readonly Predicted[]): boolean {
  if (typeof gt === "number" && Number.isNaN(gt)) return predicted.includes(JSON_NAN);
  return pyIn(
    gt,
    predicted.filter((p) => p !== JSON_NAN),
  );
}

const mathAdvancedCalculations = defineEnvironment<unknown>({
  name: "math_advanced_calculations",
  description: "Tool use in an alternate universe: counter-intuitive calculators whose outputs must be used for every value",
  tools: Object.keys(OPERATIONS).map(calculatorTool),
  unknownTool: () => new ConnectError("Function not found", Code.NotFound),
  taskSchema: TaskData,
  verify: ({ task, response }) => {
    const { ground_truth } = taskFields(task, TaskData);
    const expected = groundTruthValues(ground_truth);
    const predicted: Predicted[] = [];
    for (const item of response.output) {
      if (item.kind.case === "functionCallOutput") predicted.push(solutionOf(item.kind.value.output));
    }
    return { reward: expected.every((gt) => found(gt, predicted)) ? 1 : 0 };
  },
});

export default mathAdvancedCalculations;
