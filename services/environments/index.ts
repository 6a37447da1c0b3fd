// The built-in environments, by name.
import type { Environment } from "../resources/environment.js";
import { exampleSingleToolCall } from "./example_single_tool_call/environment.js";

export const environments: Record<string, Environment<any>> = {
  [exampleSingleToolCall.name]: exampleSingleToolCall,
};
