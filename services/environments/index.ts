// The built-in environments, by name.
import type { Environment } from "../resources/environment.js";
import { exampleMultiStep } from "./example_multi_step/environment.js";
import { exampleMultiTurnGymnasium } from "./example_multi_turn_gymnasium/environment.js";
import { exampleSessionStateMgmt } from "./example_session_state_mgmt/environment.js";
import { exampleSingleToolCall } from "./example_single_tool_call/environment.js";
import { mcqa } from "./mcqa/environment.js";
import { structuredOutputs } from "./structured_outputs/environment.js";

const all: Environment<any>[] = [exampleSingleToolCall, exampleSessionStateMgmt, exampleMultiStep, exampleMultiTurnGymnasium, mcqa, structuredOutputs];

export const environments: Record<string, Environment<any>> = Object.fromEntries(all.map((env) => [env.name, env]));
