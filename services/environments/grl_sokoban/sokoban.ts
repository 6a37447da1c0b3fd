// The game of grl_sokoban as NeMo Gym 0.7.0 plays it: gym-sokoban 0.0.6's
// SokobanEnv (moves, pushes, rewards, the end of an episode) under the
// release's text rendering. A room is two integer matrices, as gym-sokoban
// holds them: `room_fixed` (0 wall, 1 floor, 2 target) and `room_state`
// (0 wall, 1 floor, 2 empty target, 3 box on target, 4 box, 5 player).

export const WALL = 0;
export const FLOOR = 1;
export const TARGET = 2;
export const BOX_ON_TARGET = 3;
export const BOX = 4;
export const PLAYER = 5;
/** Rendering only: the player standing on a target. */
export const PLAYER_ON_TARGET = 6;

// gym-sokoban's reward constants.
const PENALTY_FOR_STEP = -0.1;
const PENALTY_BOX_OFF_TARGET = -1;
const REWARD_BOX_ON_TARGET = 1;
const REWARD_FINISHED = 10;

/** gym-sokoban's CHANGE_COORDINATES: up, down, left, right as (row, column) steps. */
const CHANGE: readonly (readonly [number, number])[] = [
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
];

/** gym-sokoban's action ids: 0 no-op, 1-4 push (or move) up/down/left/right, 5-8 move only. */
export const GYM_SOKOBAN_ACTIONS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]);

export type Grid = number[][];

export interface StepOutcome {
  reward: number;
  done: boolean;
  movedPlayer: boolean;
}

export class SokobanGame {
  readonly roomFixed: Grid;
  readonly roomState: Grid;
  private player: [number, number];
  numEnvSteps = 0;
  /** As gym-sokoban's reset: 0, whatever the room holds (a box left on its target counts only from the first step). */
  boxesOnTarget = 0;

  constructor(
    roomFixed: Grid,
    roomState: Grid,
    readonly numBoxes: number,
    /** Episode ends when the step count equals it (gym-sokoban's `==`: 0 or less never ends it). */
    readonly maxSteps: number,
  ) {
    this.roomFixed = roomFixed.map((r) => [...r]);
    this.roomState = roomState.map((r) => [...r]);
    this.player = findPlayer(this.roomState);
  }

  get playerPosition(): [number, number] {
    return [this.player[0], this.player[1]];
  }

  /** gym-sokoban's SokobanEnv.step (the action must be one of GYM_SOKOBAN_ACTIONS). */
  step(action: number): StepOutcome {
    this.numEnvSteps += 1;
    let movedPlayer = false;
    if (action === 0) movedPlayer = false;
    else if (action < 5) movedPlayer = this.push(action);
    else movedPlayer = this.move(action);
    const reward = this.calcReward();
    const done = this.allBoxesOnTarget() || this.maxSteps === this.numEnvSteps;
    return { reward, done, movedPlayer };
  }

  private cell(p: readonly [number, number]): number | undefined {
    return this.roomState[p[0]]?.[p[1]];
  }

  private push(action: number): boolean {
    const change = CHANGE[(action - 1) % 4]!;
    const next: [number, number] = [this.player[0] + change[0], this.player[1] + change[1]];
    const boxNext: [number, number] = [next[0] + change[0], next[1] + change[1]];
    // gym-sokoban gives up (no move either) when the box would leave the grid.
    if (boxNext[0] >= this.roomState.length || boxNext[1] >= this.roomState[0]!.length) return false;
    const nextCell = this.cell(next);
    const beyond = this.cell(boxNext);
    if ((nextCell === BOX_ON_TARGET || nextCell === BOX) && (beyond === FLOOR || beyond === TARGET)) {
      const [r, c] = this.player;
      this.player = next;
      this.roomState[next[0]]![next[1]] = PLAYER;
      this.roomState[r]![c] = this.roomFixed[r]![c]!;
      this.roomState[boxNext[0]]![boxNext[1]] = this.roomFixed[boxNext[0]]![boxNext[1]] === TARGET ? BOX_ON_TARGET : BOX;
      return true;
    }
    return this.move(action);
  }

  private move(action: number): boolean {
    const change = CHANGE[(action - 1) % 4]!;
    const next: [number, number] = [this.player[0] + change[0], this.player[1] + change[1]];
    const nextCell = this.cell(next);
    if (nextCell === FLOOR || nextCell === TARGET) {
      const [r, c] = this.player;
      this.player = next;
      this.roomState[next[0]]![next[1]] = PLAYER;
      this.roomState[r]![c] = this.roomFixed[r]![c]!;
      return true;
    }
    return false;
  }

  /** Targets with no box on them (an empty target, or the player standing on one). */
  private uncoveredTargets(): number {
    let n = 0;
    for (let r = 0; r < this.roomState.length; r++) {
      for (let c = 0; c < this.roomState[r]!.length; c++) {
        const s = this.roomState[r]![c];
        if (s === TARGET || (s === PLAYER && this.roomFixed[r]![c] === TARGET)) n++;
      }
    }
    return n;
  }

  private allBoxesOnTarget(): boolean {
    return this.uncoveredTargets() === 0;
  }

  private calcReward(): number {
    let reward = PENALTY_FOR_STEP;
    const current = this.numBoxes - this.uncoveredTargets();
    if (current > this.boxesOnTarget) reward += REWARD_BOX_ON_TARGET;
    else if (current < this.boxesOnTarget) reward += PENALTY_BOX_OFF_TARGET;
    if (this.allBoxesOnTarget()) reward += REWARD_FINISHED;
    this.boxesOnTarget = current;
    return reward;
  }

  /** The release's text rendering: one glyph per cell (unknown cells "?"), rows joined by newlines. */
  render(glyphs: ReadonlyMap<number, string>): string {
    return this.roomState
      .map((row, r) =>
        row
          .map((s, c) => {
            const cell = s === PLAYER && this.roomFixed[r]![c] === TARGET ? PLAYER_ON_TARGET : s;
            return glyphs.get(cell) ?? "?";
          })
          .join(""),
      )
      .join("\n");
  }
}

function findPlayer(state: Grid): [number, number] {
  for (let r = 0; r < state.length; r++) {
    const c = state[r]!.indexOf(PLAYER);
    if (c >= 0) return [r, c];
  }
  throw new Error("the room has no player");
}

/**
 * Why a room given in a row is not one gym-sokoban could have made, or
 * undefined when it is: same rectangular shape for both matrices, walls all
 * around, walls and targets agreeing, one player, as many boxes as targets.
 */
export function roomProblem(fixed: Grid, state: Grid): string | undefined {
  const rows = fixed.length;
  const cols = fixed[0]?.length ?? 0;
  if (rows < 3 || cols < 3) return "a room needs at least 3 rows and 3 columns";
  if (state.length !== rows) return `room_state has ${state.length} rows, room_fixed ${rows}`;
  let players = 0;
  let boxes = 0;
  let targets = 0;
  for (let r = 0; r < rows; r++) {
    if (fixed[r]!.length !== cols) return `room_fixed row ${r} has ${fixed[r]!.length} cells, row 0 has ${cols}`;
    if (state[r]!.length !== cols) return `room_state row ${r} has ${state[r]!.length} cells, room_fixed has ${cols}`;
    for (let c = 0; c < cols; c++) {
      const f = fixed[r]![c]!;
      const s = state[r]![c]!;
      if (f !== WALL && f !== FLOOR && f !== TARGET) return `room_fixed[${r}][${c}] is ${f}: must be 0 (wall), 1 (floor) or 2 (target)`;
      if (s < WALL || s > PLAYER) return `room_state[${r}][${c}] is ${s}: must be 0 to 5`;
      const border = r === 0 || c === 0 || r === rows - 1 || c === cols - 1;
      if (border && f !== WALL) return `room_fixed[${r}][${c}] is on the border: must be a wall (0)`;
      if ((f === WALL) !== (s === WALL)) return `room_state[${r}][${c}] is ${s} where room_fixed is ${f}: walls must agree`;
      if (s === FLOOR && f !== FLOOR) return `room_state[${r}][${c}] is floor (1) where room_fixed is ${f}`;
      if ((s === TARGET || s === BOX_ON_TARGET) && f !== TARGET) return `room_state[${r}][${c}] is ${s} where room_fixed has no target`;
      if (f === TARGET) targets++;
      if (s === BOX || s === BOX_ON_TARGET) boxes++;
      if (s === PLAYER) players++;
    }
  }
  if (players !== 1) return `room_state has ${players} players: must have exactly one (5)`;
  if (targets === 0) return "room_fixed has no target (2)";
  if (boxes !== targets) return `room_state has ${boxes} boxes (3 or 4) for ${targets} targets`;
  return undefined;
}

export function countTargets(fixed: Grid): number {
  return fixed.reduce((n, row) => n + row.filter((f) => f === TARGET).length, 0);
}
