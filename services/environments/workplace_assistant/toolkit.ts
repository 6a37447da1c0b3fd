// How a workplace tool is declared and called: the release's JSON schema
// (names, types, descriptions, required), the Python method it stands for
// (its keyword arguments and defaults), and NeMo Gym's dispatch: any
// exception becomes the output "Error executing tool '<name>': <message>".
import { z } from "zod";
import { PyError } from "./py.js";
import type { Frame } from "./tables.js";

/** One session's tables (each replaced, never changed in place, on a write). */
export interface Tables {
  emails: Frame;
  calendar: Frame;
  analytics: Frame;
  plots: Frame;
  tasks: Frame;
  crm: Frame;
  directory: Frame;
}

export type Args = Record<string, unknown>;

export interface Param {
  name: string;
  type: "string" | "integer";
  description?: string;
  /** The Python default (None when absent). */
  default?: unknown;
}

export interface WorkplaceTool {
  name: string;
  /** The Python method, as TypeError messages name it (EmailTool.send_email). */
  qualname: string;
  description: string;
  params: Param[];
  required: string[];
  run(tables: Tables, args: Args): unknown;
}

export function defineWorkplaceTool(t: WorkplaceTool): WorkplaceTool {
  return t;
}

/**
 * The tool called with keyword arguments, as `function(**args)`: unknown
 * names are a TypeError, missing ones take their defaults. Python errors
 * become the output NeMo Gym's route gives the model.
 */
export function runTool(tool: WorkplaceTool, tables: Tables, args: Args): unknown {
  try {
    return tool.run(tables, bind(tool, args));
  } catch (err) {
    if (err instanceof PyError) return `Error executing tool '${tool.name}': ${err.message}`;
    throw err;
  }
}

export function bind(tool: WorkplaceTool, args: Args): Args {
  const bound: Args = {};
  for (const p of tool.params) bound[p.name] = p.default ?? null;
  for (const [k, v] of Object.entries(args)) {
    if (!tool.params.some((p) => p.name === k)) throw new PyError(`${tool.qualname}() got an unexpected keyword argument '${k}'`);
    bound[k] = v;
  }
  return bound;
}

/**
 * The arguments' schema: any JSON object (the release validates nothing, its
 * tools answer wrong values themselves), offered to the model as the
 * release's JSON schema.
 */
export function argsSchema(tool: WorkplaceTool): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const p of tool.params) {
    shape[p.name] = z
      .unknown()
      .optional()
      .meta(p.description === undefined ? { type: p.type } : { type: p.type, description: p.description });
  }
  return z.looseObject(shape).meta({ required: tool.required, additionalProperties: false });
}

/** A tool of the release's declarations (declarations.ts) with its behaviour. */
export function workplaceTool(decl: Omit<WorkplaceTool, "run">, run: WorkplaceTool["run"]): WorkplaceTool {
  return { ...decl, run };
}
