// workplace_assistant, ported from NeMo Gym 0.7.0: a workplace sandbox of
// five tables (emails, calendar, web analytics, project tasks, CRM) plus a
// company directory, with the release's 27 tools. Each session works on its
// own copy of the tables (copy-on-write per table, see tables.ts). The
// reward is state-based: the rollout's function calls and the row's
// ground-truth calls are replayed on fresh tables and the resulting states
// compared (verify.ts).
import { z } from "zod";
import type { Response } from "../../../gen/gymmesh/v1/responses_pb.js";
import { defineEnvironment, defineTool, laxInt, taskFields, type Tool } from "../../resources/environment.js";
import { analyticsTools } from "./analytics.js";
import { calendarTools } from "./calendar.js";
import { companyDirectoryTools } from "./company-directory.js";
import { crmTools } from "./crm.js";
import { DECLARATIONS } from "./declarations.js";
import { emailTools } from "./email.js";
import { projectManagementTools } from "./project-management.js";
import { loadCsv, toJson, type Frame } from "./tables.js";
import { argsSchema, runTool, type Tables, type WorkplaceTool } from "./toolkit.js";
import { isCorrect, type Action } from "./verify.js";

const ALL: WorkplaceTool[] = [...companyDirectoryTools, ...emailTools, ...calendarTools, ...analyticsTools, ...projectManagementTools, ...crmTools];
/** In the release's order (its get_tools schemas). */
export const WORKPLACE_TOOLS: WorkplaceTool[] = Object.keys(DECLARATIONS).map((name) => ALL.find((t) => t.name === name)!);
const BY_NAME: ReadonlyMap<string, WorkplaceTool> = new Map(WORKPLACE_TOOLS.map((t) => [t.name, t]));

let originals: Tables | undefined;

/** The tables as the CSV files hold them, read once and shared (never written: writes replace a session's table). */
export function freshTables(): Tables {
  originals ??= freezeTables({
    emails: loadCsv("processed/emails.csv"),
    calendar: loadCsv("processed/calendar_events.csv"),
    analytics: analyticsFrame(loadCsv("processed/analytics_data.csv")),
    plots: { columns: ["file_path"], data: { file_path: { dtype: "object", values: [] } }, index: [] },
    tasks: loadCsv("processed/project_tasks.csv"),
    crm: loadCsv("processed/customer_relationship_manager_data.csv"),
    directory: loadCsv("raw/email_addresses.csv", ["email_address"]),
  });
  return { ...originals };
}

/** Every session shares these frames: frozen, so a write that forgot to copy fails loudly. */
function freezeTables(t: Tables): Tables {
  for (const f of Object.values(t) as Frame[]) {
    for (const c of Object.values(f.data)) Object.freeze(Object.freeze(c).values);
    Object.freeze(f.columns);
    Object.freeze(f.index);
    Object.freeze(Object.freeze(f).data);
  }
  return Object.freeze(t);
}

/** user_engaged == "True", as the release converts it to booleans. */
function analyticsFrame(f: Frame): Frame {
  const values = f.data.user_engaged!.values.map((v) => v === "True");
  return { ...f, data: { ...f.data, user_engaged: { dtype: "bool", values } } };
}

const tools: Tool<Tables>[] = WORKPLACE_TOOLS.map((t) =>
  defineTool<Tables, z.ZodType>({
    name: t.name,
    description: t.description,
    args: argsSchema(t),
    // NeMo Gym's route drops null arguments, and sends back {"output": <result>}.
    run: (args, { state }) => {
      const given = Object.fromEntries(Object.entries(args as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined));
      return { output: toJson(runTool(t, state, given)) };
    },
  }),
);

const TaskData = z.looseObject({
  ground_truth: z.union([z.array(z.record(z.string(), z.string())), z.string()]),
  id: laxInt(),
  category: z.string(),
  environment_name: z.string(),
});

function predictedCalls(response: Response): Action[] {
  return response.output.flatMap((item) =>
    item.kind.case === "functionCall" ? [{ name: item.kind.value.name, arguments: item.kind.value.arguments }] : [],
  );
}

const workplaceAssistant = defineEnvironment<Tables>({
  name: "workplace_assistant",
  description: "Workplace assistant: multi-step tool use over email, calendar, analytics, project and CRM tables, scored by the state the calls leave",
  tools,
  taskSchema: TaskData,
  createState: () => freshTables(),
  verify: ({ task, response }) => {
    const row = taskFields(task, TaskData);
    // A str ground truth is iterated by character in the release: no call runs.
    const truth: Action[] = typeof row.ground_truth === "string" ? [] : row.ground_truth.map((a) => ({ name: a.name, arguments: a.arguments }));
    // The release's verify response declares no fields beside the reward.
    return { reward: isCorrect(freshTables(), BY_NAME, predictedCalls(response), truth) ? 1 : 0 };
  },
});

export default workplaceAssistant;
