// Our level generator for rows that give a seed but no room. It follows the
// shape of the release's generation (gym-sokoban's, vendored in NeMo Gym
// 0.7.0): a random walk carves the floor, the player and the targets go on
// free cells, boxes start on their targets and are pulled away by a
// depth-limited search of reverse moves (so every level can be solved by
// replaying the pulls as pushes), and the player may wander a few steps.
// The random numbers are our own (a seeded mulberry32), so a seed gives a
// different room than the release's numpy and Python generators; the same
// seed and parameters always give the same room here.
import { BOX, BOX_ON_TARGET, FLOOR, PLAYER, TARGET, WALL, type Grid } from "./sokoban.js";

export interface GenerateOptions {
  dimRoom: [number, number];
  numBoxes: number;
  searchDepth: number;
  seed: number;
}

export interface Room {
  roomFixed: Grid;
  roomState: Grid;
}

export class GenerationError extends Error {}

/** mulberry32: a small seeded generator of floats in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIRS: readonly (readonly [number, number])[] = [
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
];

const MASKS: readonly number[][][] = [
  [
    [0, 0, 0],
    [1, 1, 1],
    [0, 0, 0],
  ],
  [
    [0, 1, 0],
    [0, 1, 0],
    [0, 1, 0],
  ],
  [
    [0, 0, 0],
    [1, 1, 0],
    [0, 1, 0],
  ],
  [
    [0, 0, 0],
    [1, 1, 0],
    [1, 1, 0],
  ],
  [
    [0, 0, 0],
    [0, 1, 1],
    [0, 1, 0],
  ],
];

/** Attempts (each with its own draws) before a seed's room is given up. */
const ATTEMPTS = 64;
/** As the release: at most this many states explored by the reverse search. */
const MAX_EXPLORED = 300_000;

/** A solvable room for the seed, or GenerationError when none fits the dimensions. */
export function generateRoom(o: GenerateOptions): Room {
  const [rows, cols] = o.dimRoom;
  if (rows < 3 || cols < 3) throw new GenerationError(`dim_room ${JSON.stringify(o.dimRoom)} is too small: a room needs at least 3 rows and 3 columns`);
  const random = rng(o.seed);
  const numSteps = Math.trunc(1.7 * (rows + cols));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const topology = carve(rows, cols, numSteps, random);
    const free: [number, number][] = [];
    topology.forEach((row, r) => row.forEach((v, c) => v === FLOOR && free.push([r, c])));
    if (free.length <= o.numBoxes + 1) continue;
    const fixed = topology.map((r) => [...r]);
    const picks = sample(free, o.numBoxes + 1, random);
    const player = picks[0]!;
    for (const [r, c] of picks.slice(1)) fixed[r]![c] = TARGET;
    const solved = fixed.map((r) => r.map((v) => (v === TARGET ? BOX_ON_TARGET : v)));
    solved[player[0]]![player[1]] = PLAYER;
    const pulled = reversePlay(solved, fixed, o.searchDepth);
    if (!pulled) continue;
    wander(pulled, fixed, random);
    // As the release's rooms: every box is 4, also one that was never moved off its target.
    return { roomFixed: fixed, roomState: pulled.map((r) => r.map((v) => (v === BOX_ON_TARGET ? BOX : v))) };
  }
  throw new GenerationError(`no solvable room of ${rows}x${cols} with ${o.numBoxes} box(es) for seed ${o.seed} after ${ATTEMPTS} attempts`);
}

function carve(rows: number, cols: number, numSteps: number, random: () => number): Grid {
  const level: Grid = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  let dir = DIRS[Math.floor(random() * 4)]!;
  let pos: [number, number] = [1 + Math.floor(random() * (rows - 1)), 1 + Math.floor(random() * (cols - 1))];
  for (let i = 0; i < numSteps; i++) {
    if (random() < 0.35) dir = DIRS[Math.floor(random() * 4)]!;
    pos = [Math.max(Math.min(pos[0] + dir[0], rows - 2), 1), Math.max(Math.min(pos[1] + dir[1], cols - 2), 1)];
    const mask = MASKS[Math.floor(random() * MASKS.length)]!;
    for (let dr = 0; dr < 3; dr++) {
      for (let dc = 0; dc < 3; dc++) {
        const r = pos[0] - 1 + dr;
        const c = pos[1] - 1 + dc;
        if (mask[dr]![dc] && r >= 0 && c >= 0 && r < rows && c < cols) level[r]![c] = FLOOR;
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (r === 0 || c === 0 || r === rows - 1 || c === cols - 1) level[r]![c] = WALL;
  }
  return level;
}

function sample<T>(items: T[], n: number, random: () => number): T[] {
  const pool = [...items];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

interface Node {
  state: Grid;
  /** Each box's current cell, by its target's index. */
  boxes: [number, number][];
  swaps: number;
  lastPulled: number;
  ttl: number;
}

/**
 * Pulls the boxes off their targets by reverse moves, depth first, and keeps
 * the state where the boxes are farthest from their targets (weighted by how
 * often the pulled box changed, as the release scores it); undefined when no
 * box could be moved.
 */
function reversePlay(start: Grid, fixed: Grid, searchDepth: number): Grid | undefined {
  const targets: [number, number][] = [];
  fixed.forEach((row, r) => row.forEach((v, c) => v === TARGET && targets.push([r, c])));
  const explored = new Set<string>();
  let best: { state: Grid; score: number } | undefined;
  const stack: Node[] = [{ state: start, boxes: targets.map((t) => [t[0], t[1]]), swaps: 0, lastPulled: -1, ttl: searchDepth }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const ttl = node.ttl - 1;
    if (ttl <= 0 || explored.size >= MAX_EXPLORED) continue;
    const key = node.state.map((r) => r.join("")).join("|");
    if (explored.has(key)) continue;
    explored.add(key);
    const displacement = node.boxes.reduce((s, b, i) => s + Math.abs(b[0] - targets[i]![0]) + Math.abs(b[1] - targets[i]![1]), 0);
    const score = node.swaps * displacement;
    if (!best || score > best.score) best = { state: node.state, score };
    for (const dir of DIRS) {
      const next = pull(node, fixed, dir);
      if (next) stack.push({ ...next, ttl });
    }
  }
  return best && best.score > 0 ? best.state : undefined;
}

/** The player steps away in `dir`, pulling the box behind it if there is one. */
function pull(node: Node, fixed: Grid, dir: readonly [number, number]): Omit<Node, "ttl"> | undefined {
  const state = node.state;
  let pr = -1;
  let pc = -1;
  state.forEach((row, r) => row.forEach((v, c) => v === PLAYER && ((pr = r), (pc = c))));
  const nr = pr + dir[0];
  const nc = pc + dir[1];
  const ahead = state[nr]?.[nc];
  if (ahead !== FLOOR && ahead !== TARGET) return undefined;
  const next = state.map((r) => [...r]);
  next[nr]![nc] = PLAYER;
  next[pr]![pc] = fixed[pr]![pc]!;
  const br = pr - dir[0];
  const bc = pc - dir[1];
  const behind = state[br]?.[bc];
  let boxes = node.boxes;
  let swaps = node.swaps;
  let lastPulled = node.lastPulled;
  if (behind === BOX || behind === BOX_ON_TARGET) {
    next[pr]![pc] = fixed[pr]![pc] === TARGET ? BOX_ON_TARGET : BOX;
    next[br]![bc] = fixed[br]![bc]!;
    const i = boxes.findIndex((b) => b[0] === br && b[1] === bc);
    boxes = boxes.map((b, j) => (j === i ? [pr, pc] : b));
    if (i !== lastPulled) swaps++;
    lastPulled = i;
  }
  return { state: next, boxes, swaps, lastPulled };
}

/** The player walks up to 3 steps on free cells, without going back, as the release's last touch. */
function wander(state: Grid, fixed: Grid, random: () => number): void {
  if (random() > 0.5) return;
  let pr = -1;
  let pc = -1;
  state.forEach((row, r) => row.forEach((v, c) => v === PLAYER && ((pr = r), (pc = c))));
  const seen = new Set([`${pr},${pc}`]);
  for (let steps = 0; steps < 3; steps++) {
    const moves = DIRS.map((d) => [pr + d[0], pc + d[1]] as const).filter(
      ([r, c]) => (state[r]![c] === FLOOR || state[r]![c] === TARGET) && !seen.has(`${r},${c}`),
    );
    if (moves.length === 0) return;
    const [r, c] = moves[Math.floor(random() * moves.length)]!;
    state[pr]![pc] = fixed[pr]![pc]!;
    state[r]![c] = PLAYER;
    pr = r;
    pc = c;
    seen.add(`${r},${c}`);
    if (random() > 0.5) return;
  }
}
