// Literals and character sets of a Python regex as JavaScript pattern text
// (for regex.ts), exact or case-insensitive as Python's `re` is.
//
// Python's IGNORECASE is not JavaScript's `i` flag (Unicode case folding):
// re lowers the subject character with _sre's simple lowercase and tests it
// against the set built from the pattern's members lowered the same way,
// plus re._casefix's extra cases (re/_compiler.py: _compile, _optimize_charset).
// A set with no cased member is tested exactly; a range that reaches past the
// BMP also matches when the lowercase's uppercase falls in it. So the
// translation never uses the `i` flag: a case-insensitive literal or set
// becomes the explicit set of code points Python matches. Only the code
// points of casefold.ts's caseSpecials() can match differently from the exact
// set, so those are decided one by one and every other code point keeps its
// exact test.
import { asciiIsCased, asciiLower, caseSpecials, pyExtraCases, pyIsCased, pyLower, pyUpperAstral, withLowercase } from "./casefold.js";

/** How a scope folds case: as re with Unicode str patterns, or with re.ASCII. */
export type Fold = "unicode" | "ascii";

/** A member of a set: a code point or a range of them, or a class shorthand (\d, \W...). */
export type ClassItem =
  | { kind: "range"; lo: number; hi: number; /** written as one character, not `a-a` */ literal: boolean }
  | {
      kind: "category";
      /** Content that can stand inside `[...]` (a positive shorthand)... */
      safe?: string;
      /** ...or a standalone pattern for one code point (a negated shorthand). */
      alt?: string;
    };

const SPECIAL_OUTSIDE = new Set([..."^$\\.*+?()[]{}|/"]);

/** One code point as pattern text outside a set. */
export function jsLiteral(cp: number): string {
  const ch = String.fromCodePoint(cp);
  return SPECIAL_OUTSIDE.has(ch) ? `\\${ch}` : cp < 0x20 || cp === 0x2028 || cp === 0x2029 ? `\\u{${cp.toString(16)}}` : ch;
}

/** One code point as pattern text inside a set. */
export function classLiteral(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** A literal code point: itself, or under IGNORECASE every code point Python matches with it. */
export function literalPattern(cp: number, fold: Fold | undefined): string {
  const matches = fold ? foldedLiteral(cp, fold) : [cp];
  if (matches.length === 1) return jsLiteral(matches[0]!);
  return `[${matches.map(classLiteral).join("")}]`;
}

/** The code points re matches with literal `cp` under IGNORECASE (LITERAL_UNI_IGNORE, or IN_UNI_IGNORE with its extra cases). */
function foldedLiteral(cp: number, fold: Fold): number[] {
  if (fold === "ascii") return asciiIsCased(cp) ? [asciiLower(cp) - 0x20, asciiLower(cp)] : [cp];
  if (!pyIsCased(cp)) return [cp];
  const lower = pyLower(cp);
  const out = new Set<number>();
  for (const l of [lower, ...pyExtraCases(lower)]) for (const x of withLowercase(l)) out.add(x);
  return [...out].sort((a, b) => a - b);
}

/** A set `[...]` (negated: `[^...]`) as a JS pattern matching one code point exactly when Python's does. */
export function classPattern(negated: boolean, items: ClassItem[], fold: Fold | undefined): string {
  const folded = fold ? foldedSet(items, fold) : undefined;
  if (!folded) return exactClass(negated, items);

  // Python's set differs from the exact one only on special code points: add those it gains, exclude those it loses.
  const exact = exactTest(items);
  const gained: number[] = [];
  const lost: number[] = [];
  for (const cp of fold === "ascii" ? ASCII_LETTERS : caseSpecials()) {
    const python = folded(cp);
    if (python !== exact(cp)) (python ? gained : lost).push(cp);
  }
  const categories = items.filter((i) => i.kind === "category");
  if (categories.length === 0) {
    // Plain ranges: the whole set is one JS class.
    const ranges = items.flatMap((i) => (i.kind === "range" ? [[i.lo, i.hi] as const] : []));
    const set = addPoints(removePoints(merge(ranges), lost), gained).map(classRange).join("");
    if (set === "") return negated ? "[\\s\\S]" : "[]";
    return negated ? `[^${set}]` : `[${set}]`;
  }
  const safe = [...items.flatMap((i) => (i.kind === "range" ? [classRange([i.lo, i.hi])] : i.safe !== undefined ? [i.safe] : [])), ...gained.map(classLiteral)].join("");
  const alternatives = categories.flatMap((i) => (i.alt !== undefined ? [i.alt] : []));
  const union = [...(safe ? [`[${safe}]`] : []), ...alternatives].join("|");
  const inner = `(?:${lost.length ? `(?![${lost.map(classLiteral).join("")}])` : ""}(?:${union}))`;
  return negated ? `(?:(?!${inner})[\\s\\S])` : inner;
}

/** The set as written: class-safe pieces in one class, negated shorthands as alternatives. */
function exactClass(negated: boolean, items: ClassItem[]): string {
  const set = items.flatMap((i) => (i.kind === "range" ? [i.literal ? classLiteral(i.lo) : classRange([i.lo, i.hi])] : i.safe !== undefined ? [i.safe] : [])).join("");
  const alternatives = items.flatMap((i) => (i.kind === "category" && i.alt !== undefined ? [i.alt] : []));
  if (alternatives.length === 0) {
    if (set === "") return negated ? "[\\s\\S]" : "[]";
    return negated ? `[^${set}]` : `[${set}]`;
  }
  const union = [...(set ? [`[${set}]`] : []), ...alternatives].join("|");
  return negated ? `(?:(?!${union})[\\s\\S])` : `(?:${union})`;
}

const ASCII_LETTERS = Array.from({ length: 26 }, (_, i) => [0x41 + i, 0x61 + i]).flat();

const categoryTests = new Map<string, RegExp>();

function categoryTest(item: ClassItem & { kind: "category" }): (cp: number) => boolean {
  const source = item.safe !== undefined ? `[${item.safe}]` : item.alt!;
  let re = categoryTests.get(source);
  if (!re) categoryTests.set(source, (re = new RegExp(`^(?:${source})$`, "u")));
  return (cp) => re.test(String.fromCodePoint(cp));
}

/** Membership in the set as written (without IGNORECASE). */
function exactTest(items: ClassItem[]): (cp: number) => boolean {
  const tests = items.map((i) => (i.kind === "range" ? (cp: number) => cp >= i.lo && cp <= i.hi : categoryTest(i)));
  return (cp) => tests.some((t) => t(cp));
}

/**
 * re's test of the set under IGNORECASE (negation aside), or undefined when
 * re tests it exactly (no member is cased). As _optimize_charset builds it:
 * a BMP map of the members' lowercases and their extra cases, then what the
 * map cannot hold (shorthands, members past the BMP); the subject's lowercase
 * is tested against both.
 */
function foldedSet(items: ClassItem[], fold: Fold): ((cp: number) => boolean) | undefined {
  const unicode = fold === "unicode";
  const lower = unicode ? pyLower : asciiLower;
  const isCased = unicode ? pyIsCased : asciiIsCased;
  const map = new Uint8Array(0x10000);
  const mark = (l: number) => {
    map[l] = 1;
    if (unicode) for (const k of pyExtraCases(l)) map[k] = 1;
  };
  const tail: ((y: number) => boolean)[] = [];
  let hasCased = false;
  for (const item of items) {
    if (item.kind === "category") {
      tail.push(categoryTest(item));
    } else if (item.literal) {
      const l = lower(item.lo);
      if (l < 0x10000) mark(l);
      else tail.push((y) => y === l);
      hasCased ||= isCased(l);
    } else {
      for (let cp = item.lo; cp <= Math.min(item.hi, 0xffff); cp++) mark(lower(cp));
      if (item.hi > 0xffff) {
        // RANGE_UNI_IGNORE (ASCII: RANGE): the lowercase, or its uppercase, in the range.
        const { lo, hi } = item;
        tail.push(unicode ? (y) => (y >= lo && y <= hi) || ((u) => u >= lo && u <= hi)(pyUpperAstral(y)) : (y) => y >= lo && y <= hi);
        hasCased = true;
      } else if (!hasCased) {
        for (let cp = item.lo; cp <= item.hi && !hasCased; cp++) hasCased = isCased(cp);
      }
    }
  }
  if (!hasCased) return undefined;
  return (cp) => {
    const y = lower(cp);
    return (y < 0x10000 && map[y] === 1) || tail.some((t) => t(y));
  };
}

type Range = readonly [number, number];

function classRange([lo, hi]: Range): string {
  return lo === hi ? classLiteral(lo) : `${classLiteral(lo)}-${classLiteral(hi)}`;
}

function merge(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function removePoints(ranges: Range[], points: number[]): Range[] {
  if (points.length === 0) return ranges;
  const drop = new Set(points);
  const out: Range[] = [];
  for (const [lo, hi] of ranges) {
    let start = lo;
    for (const p of [...drop].filter((q) => q >= lo && q <= hi).sort((a, b) => a - b)) {
      if (p > start) out.push([start, p - 1]);
      start = p + 1;
    }
    if (start <= hi) out.push([start, hi]);
  }
  return out;
}

function addPoints(ranges: Range[], points: number[]): Range[] {
  return points.length === 0 ? ranges : merge([...ranges, ...points.map((p) => [p, p] as const)]);
}
