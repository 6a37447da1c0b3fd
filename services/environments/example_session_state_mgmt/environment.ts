// example_session_state_mgmt, ported from NeMo Gym: a counter per session.
// The session starts at the row's initial_count; increment_counter adds to it
// and get_counter_value reads it. The verifier rewards a final count equal to
// the row's expected_count, so only a rollout that called the tools in its
// own session can score.
import { z } from "zod";
import { defineEnvironment, defineTool, laxInt, taskFields } from "../../resources/environment.js";

interface Counter {
  count: number;
}

const incrementArgs = z.object({ count: laxInt() });
const noArgs = z.object({});

const incrementCounter = defineTool<Counter, typeof incrementArgs>({
  name: "increment_counter",
  description: "",
  args: incrementArgs,
  run: ({ count }, { state }) => {
    state.count += count;
    return { success: true };
  },
});

const getCounterValue = defineTool<Counter, typeof noArgs>({
  name: "get_counter_value",
  description: "",
  args: noArgs,
  run: (_args, { state }) => ({ count: state.count }),
});

const TaskData = z.object({ initial_count: laxInt(), expected_count: laxInt() });

const exampleSessionStateMgmt = defineEnvironment<Counter>({
  name: "example_session_state_mgmt",
  description: "Per-session state: a counter the model increments and reads",
  tools: [incrementCounter, getCounterValue],
  taskSchema: TaskData,
  // A session needs the row's initial_count (an integer), as NeMo Gym's seed_session does.
  createState: (task) => ({ count: taskFields(task, z.object({ initial_count: laxInt() })).initial_count }),
  verify: ({ task, state }) => {
    const { expected_count } = taskFields(task, z.object({ expected_count: laxInt() }));
    // Without a session there is no counter: reward 0, as in NeMo Gym.
    return { reward: state && state.count === expected_count ? 1 : 0 };
  },
});

export default exampleSessionStateMgmt;
