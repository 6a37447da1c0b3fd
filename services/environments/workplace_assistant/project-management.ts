// The project management tools over processed/project_tasks.csv (task_id,
// task_name, assigned_to_email, list_name, due_date, board). Lists and
// boards are case-sensitive; assignees must already appear in the table.
import { DECLARATIONS } from "./declarations.js";
import { lower, PyError, pyInt, truthy, typeName } from "./py.js";
import { column, appendRow, col, containsValue, eqMask, filterRows, NA, records, setWhere, strContains, strMax, type Cell } from "./tables.js";
import { workplaceTool } from "./toolkit.js";

export const LISTS = ["Backlog", "In Progress", "In Review", "Completed"];
export const BOARDS = ["Back end", "Front end", "Design"];
const LIST_ERROR = "List not valid. Please choose from: 'Backlog', 'In Progress', 'In Review', 'Completed'.";
const BOARD_ERROR = "Board not valid. Please choose from: 'Back end', 'Front end', 'Design'.";
const ASSIGNEE_ERROR = "Assignee email not valid. Please choose from the list of team members.";

function isIn(v: unknown, list: readonly string[]): boolean {
  return typeof v === "string" && list.includes(v);
}

function lowered(values: readonly Cell[]): Cell[] {
  return values.map((v) => (typeof v === "string" ? v.toLowerCase() : NA));
}

/** re.match(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$", v): `$` also matches before a final newline. */
function validEmail(v: unknown): boolean {
  if (typeof v !== "string") throw new PyError(`expected string or bytes-like object, got '${typeName(v)}'`);
  return /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}\n?$/.test(v);
}

export const getTaskInformationById = workplaceTool(DECLARATIONS.project_management_get_task_information_by_id!, (t, { task_id, field }) => {
  if (!truthy(task_id)) return "Task ID not provided.";
  if (!truthy(field)) return "Field not provided.";
  const found = records(filterRows(t.tasks, eqMask(col(t.tasks, "task_id"), task_id)));
  if (found.length === 0) return "Task not found.";
  if (field !== null && typeof field === "object") throw new PyError(`unhashable type: '${Array.isArray(field) ? "list" : "dict"}'`);
  if (typeof field === "string" && Object.hasOwn(found[0]!, field)) return { [field]: found[0]![field]! };
  return "Field not found.";
});

export const searchTasks = workplaceTool(DECLARATIONS.project_management_search_tasks!, (t, { task_name, assigned_to_email, list_name, due_date, board }) => {
  if (![task_name, assigned_to_email, list_name, due_date, board].some(truthy)) return "No search parameters provided.";
  if (truthy(assigned_to_email) && !validEmail(assigned_to_email)) return "Invalid email format for assigned_to_email.";
  let tasks = t.tasks;
  if (truthy(task_name)) tasks = filterRows(tasks, strContains(column(tasks, "task_name"), task_name));
  if (truthy(assigned_to_email)) {
    const want = lower(assigned_to_email);
    tasks = filterRows(tasks, lowered(col(tasks, "assigned_to_email")).map((v) => v === want));
  }
  if (truthy(list_name)) tasks = filterRows(tasks, strContains(column(tasks, "list_name"), list_name));
  if (truthy(due_date)) tasks = filterRows(tasks, strContains(column(tasks, "due_date"), due_date));
  if (truthy(board)) tasks = filterRows(tasks, strContains(column(tasks, "board"), board));
  return records(tasks);
});

export const createTask = workplaceTool(DECLARATIONS.project_management_create_task!, (t, { task_name, assigned_to_email, list_name, due_date, board }) => {
  if (![task_name, assigned_to_email, list_name, due_date, board].every(truthy)) return "Missing task details.";
  const email = lower(assigned_to_email);
  if (!containsValue(lowered(col(t.tasks, "assigned_to_email")), email)) return ASSIGNEE_ERROR;
  if (!isIn(list_name, LISTS)) return LIST_ERROR;
  if (!isIn(board, BOARDS)) return BOARD_ERROR;
  const max = strMax(col(t.tasks, "task_id"));
  if (typeof max !== "string") throw new PyError("int() argument must be a string, a bytes-like object or a real number, not 'float'");
  const id = String(pyInt(max) + 1).padStart(8, "0");
  t.tasks = appendRow(t.tasks, { task_id: id, task_name, assigned_to_email: email, list_name, due_date, board }, true);
  return id;
});

export const deleteTask = workplaceTool(DECLARATIONS.project_management_delete_task!, (t, { task_id }) => {
  if (!truthy(task_id)) return "Task ID not provided.";
  const ids = col(t.tasks, "task_id");
  if (!containsValue(ids, task_id)) return "Task not found.";
  t.tasks = filterRows(t.tasks, ids.map((v) => v !== task_id));
  return "Task deleted successfully.";
});

export const updateTask = workplaceTool(DECLARATIONS.project_management_update_task!, (t, { task_id, field, new_value }) => {
  if (!truthy(task_id) || !truthy(field) || !truthy(new_value)) return "Task ID, field, or new value not provided.";
  const value = field === "assigned_to_email" ? lower(new_value) : new_value;
  if (field === "board" && !isIn(value, BOARDS)) return BOARD_ERROR;
  if (field === "list_name" && !isIn(value, LISTS)) return LIST_ERROR;
  if (field === "assigned_to_email" && !containsValue(lowered(col(t.tasks, "assigned_to_email")), value)) return ASSIGNEE_ERROR;
  const ids = col(t.tasks, "task_id");
  if (!containsValue(ids, task_id)) return "Task not found.";
  if (field !== null && typeof field === "object") throw new PyError(`unhashable type: '${Array.isArray(field) ? "list" : "dict"}'`);
  if (typeof field !== "string" || !t.tasks.columns.includes(field)) return "Field not valid.";
  t.tasks = setWhere(t.tasks, eqMask(ids, task_id), field, value);
  return "Task updated successfully.";
});

export const projectManagementTools = [getTaskInformationById, searchTasks, createTask, deleteTask, updateTask];
