// example_single_tool_call, ported from NeMo Gym: one `get_weather` tool that
// always answers "cold", and a verifier that rewards calling it.
import { z } from "zod";
import { defineEnvironment, defineTool } from "../../resources/environment.js";

const getWeather = defineTool({
  name: "get_weather",
  description: "",
  args: z.strictObject({ city: z.string() }),
  run: ({ city }) => ({ city, weather_description: `The weather in ${city} is cold.` }),
});

const exampleSingleToolCall = defineEnvironment({
  name: "example_single_tool_call",
  description: "Basic single-step tool calling",
  tools: [getWeather],
  // Reward 1.0 when any output item is a call of get_weather, as NeMo Gym's
  // current verifier does; arguments and the final answer are not checked.
  verify: ({ response }) => ({
    reward: response.output.some((item) => item.kind.case === "functionCall" && item.kind.value.name === "get_weather") ? 1 : 0,
  }),
});

export default exampleSingleToolCall;
