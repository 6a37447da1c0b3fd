// Python re's case folding for IGNORECASE, from the tables of casefold-data.ts
// (generated from CPython by gen-casefold.py). re does not use Unicode case
// folding as JavaScript's `i` flag does: it lowers both sides with _sre's
// simple lowercase, and adds re._casefix's extra cases (characters with the
// same uppercase whose lowercases differ: i/ı, s/ſ, the Greek symbol forms...).
// So `(?i)[a-z]` matches ı and İ in Python and not in JavaScript, and
// `(?i)ß` does not match "ss"-folding neighbours JavaScript would let through.
import { ASTRAL_UPPER_RUNS, CASED_RANGES, EXTRA_CASES, LOWER_RUNS } from "./casefold-data.js";

interface Tables {
  /** _sre.unicode_tolower of every BMP code point. */
  lowerBmp: Uint32Array;
  lowerAstral: Map<number, number>;
  upperAstral: Map<number, number>;
  cased: Set<number>;
  extra: Map<number, readonly number[]>;
  /** y -> every other x with lower(x) === y. */
  preimage: Map<number, number[]>;
  /** Sorted: every code point whose case-insensitive match can differ from an exact one (cased, a lowercase image, or in the extra cases). */
  specials: readonly number[];
}

let tables: Tables | undefined;

function eachRun(runs: readonly number[], visit: (cp: number, mapped: number) => void): void {
  for (let i = 0; i < runs.length; i += 4) {
    const [first, last, delta, step] = [runs[i]!, runs[i + 1]!, runs[i + 2]!, runs[i + 3]!];
    for (let cp = first; cp <= last; cp += step) visit(cp, cp + delta);
  }
}

function load(): Tables {
  if (tables) return tables;
  const lowerBmp = new Uint32Array(0x10000);
  for (let i = 0; i < lowerBmp.length; i++) lowerBmp[i] = i;
  const lowerAstral = new Map<number, number>();
  const preimage = new Map<number, number[]>();
  const specials = new Set<number>();
  eachRun(LOWER_RUNS, (cp, lower) => {
    if (cp < 0x10000) lowerBmp[cp] = lower;
    else lowerAstral.set(cp, lower);
    let list = preimage.get(lower);
    if (!list) preimage.set(lower, (list = []));
    list.push(cp);
    specials.add(cp).add(lower);
  });
  const upperAstral = new Map<number, number>();
  eachRun(ASTRAL_UPPER_RUNS, (cp, upper) => upperAstral.set(cp, upper));
  const cased = new Set<number>();
  for (let i = 0; i < CASED_RANGES.length; i += 2) {
    for (let cp = CASED_RANGES[i]!; cp <= CASED_RANGES[i + 1]!; cp++) {
      cased.add(cp);
      specials.add(cp);
    }
  }
  const extra = new Map<number, readonly number[]>();
  for (let i = 0; i < EXTRA_CASES.length; ) {
    const key = EXTRA_CASES[i++]!;
    const others: number[] = [];
    while (EXTRA_CASES[i] !== 0) others.push(EXTRA_CASES[i++]!);
    i++;
    extra.set(key, others);
    specials.add(key);
    for (const o of others) specials.add(o);
  }
  tables = { lowerBmp, lowerAstral, upperAstral, cased, extra, preimage, specials: [...specials].sort((a, b) => a - b) };
  return tables;
}

/** _sre.unicode_tolower: the simple lowercase (one code point). */
export function pyLower(cp: number): number {
  const t = load();
  return cp < 0x10000 ? t.lowerBmp[cp]! : (t.lowerAstral.get(cp) ?? cp);
}

/** _sre.unicode_iscased: lower or upper differs from the code point. */
export function pyIsCased(cp: number): boolean {
  return load().cased.has(cp);
}

/** The simple uppercase of a non-BMP code point (re's RANGE_UNI_IGNORE test). */
export function pyUpperAstral(cp: number): number {
  return load().upperAstral.get(cp) ?? cp;
}

/** re._casefix._EXTRA_CASES[cp]: the other lowercase code points with cp's uppercase. */
export function pyExtraCases(cp: number): readonly number[] {
  return load().extra.get(cp) ?? [];
}

/** Every code point whose lowercase is `lower` (itself too when it is its own lowercase). */
export function withLowercase(lower: number): number[] {
  const out = load().preimage.get(lower)?.slice() ?? [];
  if (pyLower(lower) === lower) out.push(lower);
  return out;
}

/**
 * The code points for which re's case-insensitive test can differ from an
 * exact one; for every other code point `(?i)` changes nothing.
 */
export function caseSpecials(): readonly number[] {
  return load().specials;
}

/** _sre.ascii_tolower. */
export function asciiLower(cp: number): number {
  return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
}

/** _sre.ascii_iscased. */
export function asciiIsCased(cp: number): boolean {
  return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}
