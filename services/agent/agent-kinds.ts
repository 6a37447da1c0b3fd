// NeMo Gym's agent kinds: the one list. The config schema, the config check
// (what resources server a kind can drive), AgentService (which runner) and
// the docs and `gym agents` listing (the summaries) all read it.
// The runners must not import this module (it imports them).
import type { Rollout, Task } from "../../gen/gymmesh/v1/task_pb.js";
import { runGymnasiumAgent } from "./gymnasium-agent.js";
import type { AgentDeps, RunOptions } from "./rollout-parts.js";
import { runSimpleAgent } from "./simple-agent.js";
import { runNonExecutingAgent, runToolSimulationAgent } from "./single-call-agents.js";

/** Runs one rollout of a task. */
export type AgentRunner = (deps: AgentDeps, task: Task, rolloutId: string, options: RunOptions) => Promise<Rollout>;

/**
 * What an agent kind needs from its resources server:
 * - "tools": an environment with a verifier (SeedSession, CallTool, Verify);
 * - "steps": a multi-turn (gymnasium-style) environment (Reset, Step).
 */
export type AgentDrives = "tools" | "steps";

export interface AgentKindInfo {
  /** The `agent:` value in the config, NeMo Gym's name for it. */
  name: string;
  /** What the kind does, in one line (docs, `gym agents`). */
  summary: string;
  drives: AgentDrives;
  run: AgentRunner;
}

export const AGENT_KINDS = [
  {
    name: "simple_agent",
    summary: "The default: calls the model and runs its tool calls until a turn has none (or max_steps), then verifies.",
    drives: "tools",
    run: runSimpleAgent,
  },
  {
    name: "non_executing_simple_agent",
    summary: "Calls the model once and passes its response straight to the verifier; does not execute tool calls.",
    drives: "tools",
    run: runNonExecutingAgent,
  },
  {
    name: "tool_simulation_agent",
    summary: "Calls the model once, with no session, and verifies its tool calls without running them (or skips the verifier for a fixed reward).",
    drives: "tools",
    run: runToolSimulationAgent,
  },
  {
    name: "gymnasium_agent",
    summary: "Drives a gymnasium-style reset()/step() loop: one model turn per Step until terminated or truncated; the reward is the sum of the step rewards.",
    drives: "steps",
    run: runGymnasiumAgent,
  },
] as const satisfies readonly AgentKindInfo[];

export type AgentKind = (typeof AGENT_KINDS)[number]["name"];

/** The kinds' names, in the list's order (for `z.enum(AGENT_KIND_NAMES)`). */
export const AGENT_KIND_NAMES = AGENT_KINDS.map((k) => k.name) as [AgentKind, ...AgentKind[]];

/** The kind an agent instance is when its config names none. */
export const DEFAULT_AGENT_KIND: AgentKind = "simple_agent";

/** The kind of this name; throws for a name not in the list (the config schema lets none through). */
export function findAgentKind(name: string): (typeof AGENT_KINDS)[number] {
  const kind = AGENT_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`unknown agent kind "${name}" (kinds: ${AGENT_KIND_NAMES.join(", ")})`);
  return kind;
}

export function isAgentKind(name: string): name is AgentKind {
  return AGENT_KINDS.some((k) => k.name === name);
}
