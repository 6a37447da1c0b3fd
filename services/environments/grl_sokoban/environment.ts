// grl_sokoban, ported from NeMo Gym 0.7.0: single-box (or more) Sokoban in
// the Gymnasium style. Reset shows the board; each model turn names one move
// (`<action>Up</action>`, or a bare up/down/left/right/1-4), Step plays it
// and answers the next board. Rewards are gym-sokoban's: -0.1 a step, +1 for
// a box pushed onto a target, -1 for one pushed off, +10 when every box is
// on a target (which ends the episode, as does the env's max_steps).
//
// The room: the row's `room_fixed` + `room_state` when given (the release's
// own room for the row's seed, stored beside it), else our generator's room
// for the row's `seed` (README: NeMo Gym's numpy draws cannot be matched).
import { randomInt } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";
import { taskExtra } from "../../openai/responses-json.js";
import { defineEnvironment, invalidInput, taskFields, verifyByStepOnly } from "../../resources/environment.js";
import { parseAction } from "./action.js";
import { generateRoom, GenerationError } from "./generator.js";
import { countTargets, GYM_SOKOBAN_ACTIONS, roomProblem, SokobanGame, type Grid } from "./sokoban.js";

const NAME = "grl_sokoban";

const DEFAULT_GRID_LOOKUP: Record<string, string> = { 0: "#", 1: "_", 2: "O", 3: "√", 4: "X", 5: "P", 6: "S" };
const DEFAULT_ACTION_LOOKUP: Record<string, string> = { 1: "Up", 2: "Down", 3: "Left", 4: "Right" };

/** An id -> text map with integer keys (`{0: "#"}` in YAML). */
const intKeyed = z.record(z.string().regex(/^-?\d+$/, "keys must be integers"), z.string());

const dimRoom = z.tuple([z.int().min(3), z.int().min(3)]);

/**
 * NeMo Gym's `env_config` (one dict: given, it replaces the default whole;
 * a key it lacks takes SokobanEnv's own default: search_depth 300, the rest
 * as below).
 */
const EnvConfig = z.strictObject({
  grid_lookup: intKeyed.optional(),
  action_lookup: intKeyed.optional(),
  search_depth: z.int().optional(),
  dim_room: dimRoom.optional(),
  max_steps: z.number().optional(),
  num_boxes: z.int().min(1).optional(),
  render_mode: z.literal("text").optional(),
});

const Settings = z.strictObject({
  env_config: EnvConfig.default({
    grid_lookup: DEFAULT_GRID_LOOKUP,
    action_lookup: DEFAULT_ACTION_LOOKUP,
    search_depth: 100,
    dim_room: [6, 6],
    max_steps: 100,
    num_boxes: 1,
    render_mode: "text",
  }),
});
type Settings = z.infer<typeof Settings>;

const grid = z.array(z.array(z.int()));

/** The row's fields (all optional, as in the release's task_data.py), plus the room we add. */
const TaskData = z.looseObject({
  level_id: z.int().nullish(),
  seed: z.int().min(0).max(2 ** 32 - 1).nullish(),
  dim_room: dimRoom.optional(),
  num_boxes: z.int().min(1).optional(),
  max_steps: z.number().optional(),
  search_depth: z.int().optional(),
  render_mode: z.literal("text").optional(),
  grid_lookup: z.record(z.string(), z.unknown()).optional(),
  action_lookup: z.record(z.string(), z.unknown()).optional(),
  room_fixed: grid.optional(),
  room_state: grid.optional(),
});

interface Episode {
  game?: SokobanGame;
  glyphs: ReadonlyMap<number, string>;
  actions: ReadonlyMap<number, string>;
  totalReward: number;
}

/** The release's board text with its legend and the move it asks for. */
export function formatObservation(board: string): string {
  return (
    "Sokoban board:\n" +
    `${board}\n\n` +
    "Legend: #=wall, _=floor, O=target, X=box, √=box on target, P=player, S=player on target.\n" +
    "Respond with exactly one move using <action>Up</action>, <action>Down</action>, " +
    "<action>Left</action>, or <action>Right</action>."
  );
}

const grlSokoban = defineEnvironment<Episode, Settings>({
  name: NAME,
  description: "Sokoban (Gymnasium style): one move a turn, gym-sokoban's step rewards, +10 when every box is on a target",
  tools: [],
  taskSchema: TaskData,
  settings: Settings,
  createState: () => ({ glyphs: new Map(), actions: new Map(), totalReward: 0 }),
  reset: ({ task, settings, state }) => {
    const extra = taskExtra(task);
    const row = taskFields(task, TaskData);
    const env = settings.env_config;
    // The release merges a whitelist of row keys over env_config; a row's lookup
    // tables come as JSON, whose keys are strings, so its integer look-ups find nothing.
    state.glyphs = "grid_lookup" in extra ? new Map() : mapOf(env.grid_lookup ?? DEFAULT_GRID_LOOKUP);
    state.actions = "action_lookup" in extra ? new Map() : mapOf(env.action_lookup ?? DEFAULT_ACTION_LOOKUP);
    const dim = row.dim_room ?? env.dim_room ?? [6, 6];
    const numBoxes = row.num_boxes ?? env.num_boxes ?? 1;
    const maxSteps = row.max_steps ?? env.max_steps ?? 100;
    const searchDepth = row.search_depth ?? env.search_depth ?? 300;

    let fixed: Grid;
    let roomState: Grid;
    if (row.room_fixed !== undefined || row.room_state !== undefined) {
      if (row.room_fixed === undefined || row.room_state === undefined) {
        throw invalidInput(`task.${row.room_fixed === undefined ? "room_fixed" : "room_state"}`, "room_fixed and room_state go together");
      }
      fixed = row.room_fixed;
      roomState = row.room_state;
      const problem = roomProblem(fixed, roomState);
      if (problem) throw invalidInput("task.room_state", problem);
      const shape = [fixed.length, fixed[0]!.length];
      if (shape[0] !== dim[0] || shape[1] !== dim[1]) {
        throw invalidInput("task.room_fixed", `the room is ${shape[0]}x${shape[1]}, dim_room says ${dim[0]}x${dim[1]}`);
      }
      const targets = countTargets(fixed);
      if (targets !== numBoxes) throw invalidInput("task.room_fixed", `the room has ${targets} targets, num_boxes says ${numBoxes}`);
    } else {
      const seed = row.seed ?? randomInt(2 ** 32);
      try {
        ({ roomFixed: fixed, roomState } = generateRoom({ dimRoom: [dim[0], dim[1]], numBoxes, searchDepth, seed }));
      } catch (err) {
        if (err instanceof GenerationError) throw invalidInput("task", err.message);
        throw err;
      }
    }
    state.game = new SokobanGame(fixed, roomState, numBoxes, maxSteps);
    state.totalReward = 0;
    return { observation: formatObservation(state.game.render(state.glyphs)), info: {} };
  },
  step: ({ response, state }) => {
    const game = state.game;
    if (!game) throw invalidInput("episode", "Session not initialized. Call /reset first.");
    const actionId = parseAction(response, state.actions);
    if (!GYM_SOKOBAN_ACTIONS.has(actionId)) {
      throw invalidInput("settings.env_config.action_lookup", `action id ${actionId} is not one of gym-sokoban's actions (0-8)`);
    }
    const before = game.playerPosition;
    const { reward, done } = game.step(actionId);
    const after = game.playerPosition;
    state.totalReward += reward;
    const board = game.render(state.glyphs);
    const info: JsonObject = {
      action_is_effective: before[0] !== after[0] || before[1] !== after[1],
      action_is_valid: true,
      success: game.boxesOnTarget === game.numBoxes,
      action_id: actionId,
      action_label: state.actions.get(actionId)! as JsonValue,
      total_reward: state.totalReward,
    };
    // The release shows the last board without its legend.
    return { observation: done ? board : formatObservation(board), reward, terminated: done, truncated: false, info };
  },
  verify: verifyByStepOnly(NAME),
});

function mapOf(record: Record<string, string>): Map<number, string> {
  return new Map(Object.entries(record).map(([k, v]) => [Number(k), v]));
}

export default grlSokoban;
