import * as fs from "node:fs";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseFromJson, taskFromJson } from "../../openai/responses-json.js";
import { hostClient } from "../../resources/verify-cases.js";
import { startEnvironmentMesh, type EnvironmentMesh } from "../../../testing/environment-mesh.js";
import workplaceAssistant, { freshTables, WORKPLACE_TOOLS } from "./environment.js";
import { col, nrows } from "./tables.js";
import { timestamp } from "./timestamps.js";
import { isCorrect, type Action } from "./verify.js";

const rows = fs
  .readFileSync(new URL("./data/example.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const resources = hostClient(workplaceAssistant);
const seed = async (row = rows[0]) => (await resources.seedSession({ task: taskFromJson(row) })).sessionId;
const session = async () => {
  const sessionId = await seed();
  return async (name: string, args: unknown) => (await resources.callTool({ sessionId, name, arguments: typeof args === "string" ? args : JSON.stringify(args) })).output;
};
const byName = new Map(WORKPLACE_TOOLS.map((t) => [t.name, t]));
const act = (name: string, args: unknown): Action => ({ name, arguments: JSON.stringify(args) });
const correct = (predicted: Action[], truth: Action[]) => isCorrect(freshTables(), byName, predicted, truth);

function response(calls: Action[], text = "Done.") {
  return responseFromJson({
    id: "resp_t",
    created_at: 0,
    model: "t",
    object: "response",
    output: [
      ...calls.map((c, i) => ({ type: "function_call", id: `fc_${i}`, call_id: `call_${i}`, name: c.name, arguments: c.arguments, status: "completed" })),
      { id: "msg", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] },
    ],
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
  });
}

describe("workplace_assistant tools", () => {
  it("offer the release's 27 tools with its names, descriptions and parameter schemas", async () => {
    const { tools } = await resources.listTools({});
    const release = rows[0].responses_create_params.tools;
    expect(tools).toHaveLength(27);
    expect(tools.map((t) => [t.name, t.description, JSON.parse(t.parametersJson)])).toEqual(
      release.map((t: { name: string; description: string; parameters: unknown }) => [t.name, t.description, t.parameters]),
    );
  });

  it("answer as NeMo Gym's route does: {\"output\": <result>}, errors included", async () => {
    const call = await session();
    expect(await call("email_send_email", { recipient: "Carlos.Rodriguez@atlas.com", subject: "Hi", body: "Yo" })).toBe('{"output": "Email sent successfully."}');
    // The new email: id max("00000499") + 1 without padding, the recipient lowercased, the release's fixed clock.
    expect(JSON.parse(await call("email_get_email_information_by_id", { email_id: "500", field: "sender/recipient" }))).toEqual({ output: { "sender/recipient": "carlos.rodriguez@atlas.com" } });
    expect(JSON.parse(await call("email_get_email_information_by_id", { email_id: "500", field: "sent_datetime" }))).toEqual({ output: { sent_datetime: "2023-11-30 23:59:00" } });
    expect(await call("email_send_email", { recipient: "a@b.c", subject: "x", body: "y", cc: "d@e.f" })).toBe(
      JSON.stringify({ output: "Error executing tool 'email_send_email': EmailTool.send_email() got an unexpected keyword argument 'cc'" }).replace(/":"/g, '": "'),
    );
    expect(JSON.parse(await call("calendar_search_events", { query: "(" })).output).toBe("Error executing tool 'calendar_search_events': Invalid regular expression: missing ): (");
    expect(JSON.parse(await call("calendar_create_event", { event_name: "P", participant_email: "a@b.co", event_start: "soon", duration: "30" })).output).toBe(
      "Invalid event_start format. Expected YYYY-MM-DD HH:MM:SS.",
    );
    expect(JSON.parse(await call("calendar_update_event", { event_id: "00000013", field: "duration", new_value: 45 })).output).toBe(
      "Error executing tool 'calendar_update_event': Invalid value '45' for dtype 'str'. Value should be a string or missing value, got 'int' instead.",
    );
  });

  it("write empty CSV cells (NaN) as null and page through results", async () => {
    const call = await session();
    const out = JSON.parse(await call("customer_relationship_manager_search_customers", { customer_name: "taylor jackson", page_size: 1 })).output;
    expect(out.customers[0]).toMatchObject({ customer_id: "00000189", customer_phone: null });
    expect(out.pagination).toEqual({ total_customers: out.pagination.total_customers, page: 1, page_size: 1, total_pages: out.pagination.total_customers });
    expect(JSON.parse(await call("email_search_emails", { query: "carlos", page: "2" })).output).toBe("Error searching emails: '<' not supported between instances of 'int' and 'str'");
  });

  it("keep the release's in-place float conversion of session durations", async () => {
    const call = await session();
    const before = JSON.parse(await call("analytics_get_visitor_information_by_id", { visitor_id: "0860" })).output;
    expect(before[0].session_duration_seconds).toBe("4");
    await call("analytics_get_average_session_duration", { time_min: "2023-11-20" }); // a filtered copy: no change
    expect(await call("analytics_get_visitor_information_by_id", { visitor_id: "0860" })).toContain('"session_duration_seconds": "4"');
    const averages = JSON.parse(await call("analytics_get_average_session_duration", {})).output;
    expect(averages["2023-09-01"]).toBe(11.5);
    expect(await call("analytics_get_visitor_information_by_id", { visitor_id: "0860" })).toContain('"session_duration_seconds": 4.0');
  });

  it("drop null arguments and refuse arguments that are not a JSON object", async () => {
    const call = await session();
    expect(JSON.parse(await call("email_delete_email", { email_id: null })).output).toBe("Email ID not provided.");
    await expect(call("email_delete_email", "[1]")).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(call("email_delete_email", '{"email_id": ')).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("not valid JSON") });
    // Wrong types reach the tool, which answers as the release's Python does.
    expect(JSON.parse(await call("email_send_email", { recipient: 5, subject: "s", body: "b" })).output).toBe(
      "Error executing tool 'email_send_email': argument of type 'int' is not iterable",
    );
  });

  it("give each session its own tables and leave the shared originals alone", async () => {
    const [a, b] = [await session(), await session()];
    await Promise.all([
      a("email_delete_email", { email_id: "00000057" }),
      a("calendar_create_event", { event_name: "A", participant_email: "a@b.co", event_start: "2023-12-01 10:00:00", duration: "30" }),
      b("calendar_create_event", { event_name: "B", participant_email: "b@b.co", event_start: "2023-12-01 11:00:00", duration: "30" }),
    ]);
    expect(JSON.parse(await a("email_get_email_information_by_id", { email_id: "00000057", field: "subject" })).output).toBe("Email not found.");
    expect(JSON.parse(await b("email_get_email_information_by_id", { email_id: "00000057", field: "subject" })).output).toMatchObject({ subject: expect.any(String) });
    expect(JSON.parse(await a("calendar_get_event_information_by_id", { event_id: "00000300", field: "event_name" })).output).toEqual({ event_name: "A" });
    expect(JSON.parse(await b("calendar_get_event_information_by_id", { event_id: "00000300", field: "event_name" })).output).toEqual({ event_name: "B" });
    const fresh = freshTables();
    expect(nrows(fresh.emails)).toBe(500);
    expect(nrows(fresh.calendar)).toBe(300);
    expect(col(fresh.emails, "email_id")).toContain("00000057");
  });

  it("parse dates as pd.Timestamp does for the usual forms", () => {
    expect(timestamp("2023-11-30").ms).toBe(Date.UTC(2023, 10, 30));
    expect(timestamp("Nov 30 2023 10:00").ms).toBe(Date.UTC(2023, 10, 30, 10));
    expect(timestamp("30/11/2023").ms).toBe(Date.UTC(2023, 10, 30));
    expect(() => timestamp("5")).toThrow('Given date string "5" not likely a datetime');
    expect(() => timestamp("2023-13-01")).toThrow("month must be in 1..12: 2023-13-01");
    expect(() => timestamp("soon")).toThrow("Unknown datetime string format, unable to parse: soon");
  });
});

describe("workplace_assistant verifier", () => {
  const send = act("email_send_email", { recipient: "a@b.co", subject: "S", body: "B" });
  const del = act("email_delete_email", { email_id: "00000001" });

  it("compares strings case-insensitively except status, list_name and board", () => {
    const notes = (v: string) => act("customer_relationship_manager_update_customer", { customer_id: "00000189", field: "notes", new_value: v });
    expect(correct([notes("HELLO")], [notes("hello")])).toBe(true);
    const status = (v: string) => act("customer_relationship_manager_update_customer", { customer_id: "00000189", field: "customer_name", new_value: v });
    expect(correct([status("ZED")], [status("zed")])).toBe(true);
    const board = (v: string) => act("project_management_update_task", { task_id: "00000149", field: "task_name", new_value: v });
    expect(correct([board("X")], [board("x")])).toBe(true);
    // "won" is refused by the tool (no write), "Won" writes: the states differ.
    const won = (v: string) => act("customer_relationship_manager_update_customer", { customer_id: "00000189", field: "status", new_value: v });
    expect(correct([won("won")], [won("Won")])).toBe(false);
  });

  it("compares row labels and dtypes too, as DataFrame.equals", () => {
    expect(correct([send, del], [send, del])).toBe(true);
    expect(correct([send, del], [del, send])).toBe(false); // same rows, renumbered labels
    const event = (duration: unknown) => act("calendar_create_event", { event_name: "P", participant_email: "a@b.co", event_start: "2023-12-01 10:00:00", duration });
    expect(correct([event(60)], [event("60")])).toBe(false); // an int makes the column object
  });

  it("skips calls that fail, on either side", () => {
    expect(correct([{ name: "email_delete_email", arguments: "not json" }, { name: "nope", arguments: "{}" }, { name: "email_delete_email", arguments: "[1]" }], [])).toBe(true);
    expect(correct([send], [act("email_send_email", { recipient: "bad", subject: "x", body: "y" }), send])).toBe(true);
    expect(correct([act("email_delete_email", { email_id: "00000001", force: true })], [])).toBe(true);
  });

  it("scores a response by replaying its function calls, not the session", async () => {
    const row = rows[0];
    const sessionId = await seed(row);
    // The session's own writes play no part.
    await resources.callTool({ sessionId, name: "email_delete_email", arguments: '{"email_id": "00000001"}' });
    const hit = await resources.verify({ sessionId, task: taskFromJson(row), response: response(row.ground_truth) });
    expect(hit.verdict!.reward).toBe(1);
    expect(hit.verdict!.extraJson).toBe(""); // no fields beside the reward, as the release's response
    const miss = await resources.verify({ sessionId, task: taskFromJson(row), response: response([]) });
    expect(miss.verdict!.reward).toBe(0);
  });

  it("refuses rows without a ground truth, id or category, and ground-truth arguments that are not strings", async () => {
    const { ground_truth: _g, ...noTruth } = rows[0];
    const bad = [noTruth, { ...rows[0], id: "first" }, { ...rows[0], category: undefined }, { ...rows[0], ground_truth: [{ name: "email_delete_email", arguments: { email_id: "1" } }] }];
    for (const row of bad) {
      await expect(resources.verify({ task: taskFromJson(JSON.parse(JSON.stringify(row))), response: response([]) })).rejects.toMatchObject({ code: Code.InvalidArgument });
    }
  });
});

describe("workplace_assistant through the mesh (mock model)", () => {
  let env: EnvironmentMesh;
  beforeAll(async () => {
    env = await startEnvironmentMesh("workplace_assistant");
  });
  afterAll(async () => {
    await env?.close();
  });

  // The mock model calls the first offered tool with each parameter's first enum value, then answers.
  const sendTool = {
    type: "function",
    name: "email_send_email",
    description: "Sends an email to the specified recipient.",
    parameters: {
      type: "object",
      properties: { recipient: { type: "string", enum: ["Carlos.Rodriguez@atlas.com"] }, subject: { type: "string", enum: ["Hello"] }, body: { type: "string", enum: ["See you"] } },
      required: ["recipient", "subject", "body"],
      additionalProperties: false,
    },
    strict: false,
  };
  const task = (body: string) => ({
    responses_create_params: { input: [{ role: "user", content: "Email Carlos." }], tools: [sendTool] },
    ground_truth: [{ name: "email_send_email", arguments: JSON.stringify({ recipient: "carlos.rodriguez@atlas.com", subject: "hello", body }) }],
    id: 9,
    category: "workplace_assistant_email",
    environment_name: "workplace_assistant",
  });

  it("runs the rollout's tool calls in its session and scores the state they leave", async () => {
    const agent = env.agent("workplace_assistant_simple_agent");
    const [hit, miss] = await Promise.all([
      agent.run({ input: { case: "task", value: taskFromJson(task("see you")) } }),
      agent.run({ input: { case: "task", value: taskFromJson(task("another body")) } }),
    ]);
    const output = hit.rollout!.response!.output;
    expect(output.map((i) => i.kind.case)).toEqual(["functionCall", "functionCallOutput", "message"]);
    expect(output[1]!.kind.value).toMatchObject({ output: '{"output": "Email sent successfully."}' });
    expect(hit.rollout!.verdict!.reward).toBe(1);
    expect(miss.rollout!.verdict!.reward).toBe(0);
  });
});
