// Python `re` patterns run on JavaScript's RegExp engine. Datasets written for
// NeMo Gym carry Python regexes (mcqa's template output_regex, JSON-schema
// `pattern`s), and the two dialects differ where it matters:
//
// * On str patterns Python's \d, \w, \s and \b are Unicode-aware; JS's \d, \w
//   and \b are ASCII-only even with the `u` flag, and JS's \s is a different
//   set (it has U+FEFF, lacks U+001C-001F and U+0085).
// * Python's `$` also matches before a final "\n"; `.` excludes only "\n"
//   (JS also excludes \r, U+2028, U+2029).
// * Syntax: (?P<name>...), (?P=name), (?#...), inline flags, {,n}, \Z, \A,
//   octal escapes, and literal `{`/`}`/`]` that the `u` flag rejects.
// * IGNORECASE is Python's own (simple lowercase plus re._casefix's extra
//   cases, from CPython's tables: casefold.ts), not JS's case folding: `(?i)[a-z]`
//   matches ı and İ, `(?i)i` matches İ. Case-insensitive literals and sets
//   become explicit sets (regex-sets.ts), so no JS `i` flag is ever used and
//   a scoped (?i:...) or (?-i:...) works too.
//
// The translator parses Python's syntax and emits an equivalent JS pattern
// (always with the `u` flag, so matching is per code point as in Python).
// Patterns Python itself rejects raise PythonRegexError (re.error); valid
// Python that has no JS equivalent here (atomic groups, possessive
// quantifiers, conditionals, \N{...}, scoped (?a:...)/(?u:...), a
// backreference under IGNORECASE) raises UnsupportedPythonRegexError, so
// callers never silently match differently.
import { classPattern, jsLiteral, literalPattern, type ClassItem, type Fold } from "./regex-sets.js";

/** The pattern is not a valid Python regex (Python raises re.error). */
export class PythonRegexError extends Error {
  constructor(message: string, pattern: string, position: number) {
    super(`${message} at position ${position} in ${JSON.stringify(pattern)}`);
    this.name = "PythonRegexError";
  }
}

/** A valid Python regex that uses syntax this translator cannot express in JS. */
export class UnsupportedPythonRegexError extends Error {
  constructor(feature: string, pattern: string) {
    super(`Python regex feature not supported: ${feature} in ${JSON.stringify(pattern)}`);
    this.name = "UnsupportedPythonRegexError";
  }
}

export interface PythonRegexFlags {
  ignoreCase?: boolean; // re.I
  multiline?: boolean; // re.M
  dotAll?: boolean; // re.S
  verbose?: boolean; // re.X
  ascii?: boolean; // re.A
}

// Python's str.isspace() set, which is also \s for str patterns.
const PY_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_WORD = "\\p{L}\\p{N}_";
const ASCII_SPACE = " \\t-\\r";
const ASCII_WORD = "A-Za-z0-9_";

interface Scope {
  multiline: boolean;
  dotAll: boolean;
  verbose: boolean;
  ignoreCase: boolean;
}

/** [min, max] length in code points of what a node matches (for Python's fixed-width look-behind rule). */
type Width = [number, number];

const ASCII_LETTER = /^[A-Za-z]$/;
const DIGIT = /^[0-9]$/;
const OCT = /^[0-7]$/;
const HEX = /^[0-9a-fA-F]$/;

/** A Python regex translated to JS, with Python's search/match/fullmatch/findall. */
export class PythonRegex {
  readonly pattern: string;
  /** The JS source (use with `flags`). */
  readonly source: string;
  /** Always "u": case-insensitive parts are explicit sets in `source`. */
  readonly flags: string;
  /** Number of capturing groups (Python's `pattern.groups`). */
  readonly groups: number;
  private readonly searcher: RegExp;
  private readonly sticky: RegExp;
  private readonly full: RegExp;

  constructor(pattern: string, flags: PythonRegexFlags = {}) {
    const t = new Translator(pattern, flags);
    const { source, groups } = t.translate();
    this.pattern = pattern;
    this.source = source;
    this.groups = groups;
    this.flags = "u";
    try {
      this.searcher = new RegExp(source, `${this.flags}g`);
      this.sticky = new RegExp(source, `${this.flags}y`);
      this.full = new RegExp(`(?:${source})$`, `${this.flags}y`);
    } catch (err) {
      throw new PythonRegexError((err as Error).message, pattern, 0);
    }
  }

  /** re.search: the first match anywhere. */
  search(text: string): RegExpExecArray | null {
    this.searcher.lastIndex = 0;
    return this.nextMatch(text);
  }

  /** The next match from `searcher.lastIndex`, never starting inside a surrogate pair (Python matches per code point). */
  private nextMatch(text: string): RegExpExecArray | null {
    for (;;) {
      const m = this.searcher.exec(text);
      if (!m || !splitsSurrogatePair(text, m.index)) return m;
      this.searcher.lastIndex = m.index + 1;
    }
  }

  /** re.match: a match starting at index 0. */
  match(text: string): RegExpExecArray | null {
    this.sticky.lastIndex = 0;
    return this.sticky.exec(text);
  }

  /** re.fullmatch: a match spanning the whole string. */
  fullmatch(text: string): RegExpExecArray | null {
    this.full.lastIndex = 0;
    return this.full.exec(text);
  }

  /** re.finditer: every non-overlapping match, left to right. */
  *finditer(text: string): Generator<RegExpExecArray> {
    this.searcher.lastIndex = 0;
    for (;;) {
      const m = this.nextMatch(text);
      if (!m) return;
      if (m[0] === "") this.searcher.lastIndex = advance(text, this.searcher.lastIndex);
      yield m;
    }
  }

  /**
   * re.findall: whole matches when the pattern has no group, the group's text
   * (or "") with one group, and a tuple of groups with more.
   */
  findall(text: string): (string | string[])[] {
    const out: (string | string[])[] = [];
    for (const m of this.finditer(text)) {
      if (this.groups === 0) out.push(m[0]);
      else if (this.groups === 1) out.push(m[1] ?? "");
      else out.push(m.slice(1).map((g) => g ?? ""));
    }
    return out;
  }
}

function splitsSurrogatePair(text: string, i: number): boolean {
  const before = text.charCodeAt(i - 1);
  const at = text.charCodeAt(i);
  return before >= 0xd800 && before <= 0xdbff && at >= 0xdc00 && at <= 0xdfff;
}

/** Index after the code point at `i` (RegExp's AdvanceStringIndex with the u flag). */
function advance(text: string, i: number): number {
  const cp = text.codePointAt(i);
  return i + (cp !== undefined && cp > 0xffff ? 2 : 1);
}

class Translator {
  private readonly chars: string[];
  private pos = 0;
  private groups = 0;
  private readonly openGroups = new Set<number>();
  private readonly names = new Map<string, number>();
  private readonly ascii: boolean;
  private readonly scopes: Scope[];

  constructor(
    private readonly pattern: string,
    flags: PythonRegexFlags,
  ) {
    this.chars = [...pattern];
    let ignoreCase = !!flags.ignoreCase;
    let ascii = !!flags.ascii;
    let unicode = false;
    let multiline = !!flags.multiline;
    let dotAll = !!flags.dotAll;
    let verbose = !!flags.verbose;
    // Global inline flags must open the pattern (Python 3.11+).
    for (;;) {
      const m = /^\(\?([aiLmsux]+)\)/.exec(this.chars.slice(this.pos, this.pos + 16).join(""));
      if (!m) break;
      for (const f of m[1]!) {
        if (f === "i") ignoreCase = true;
        else if (f === "m") multiline = true;
        else if (f === "s") dotAll = true;
        else if (f === "x") verbose = true;
        else if (f === "a") ascii = true;
        else if (f === "u") unicode = true;
        else throw this.error("bad inline flags: cannot use 'L' flag with a str pattern");
      }
      this.pos += m[0].length;
    }
    if (ascii && unicode) throw this.error("bad inline flags: flags 'a' and 'u' are incompatible");
    this.ascii = ascii;
    this.scopes = [{ multiline, dotAll, verbose, ignoreCase }];
  }

  translate(): { source: string; groups: number } {
    const [source] = this.alternation();
    if (this.pos < this.chars.length) {
      // Only an unmatched ")" stops the top-level alternation early.
      throw this.error("unbalanced parenthesis");
    }
    return { source, groups: this.groups };
  }

  private get scope(): Scope {
    return this.scopes[this.scopes.length - 1]!;
  }

  /** How the current scope folds case: undefined without IGNORECASE. */
  private get fold(): Fold | undefined {
    return this.scope.ignoreCase ? (this.ascii ? "ascii" : "unicode") : undefined;
  }

  /** A backreference: exact in JS, so refused where Python compares case-insensitively. */
  private backreference(group: string): string {
    if (this.scope.ignoreCase) throw this.unsupported("backreference under ignore-case");
    return `(?:\\${group})`;
  }

  private error(message: string, at = this.pos): PythonRegexError {
    return new PythonRegexError(message, this.pattern, at);
  }

  private unsupported(feature: string): UnsupportedPythonRegexError {
    return new UnsupportedPythonRegexError(feature, this.pattern);
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.pos + offset];
  }

  private next(): string {
    const c = this.chars[this.pos];
    if (c === undefined) throw this.error("unexpected end of pattern");
    this.pos++;
    return c;
  }

  private skipVerbose(): void {
    if (!this.scope.verbose) return;
    for (;;) {
      const c = this.peek();
      if (c !== undefined && " \t\n\r\v\f".includes(c)) this.pos++;
      else if (c === "#") {
        while (this.peek() !== undefined && this.peek() !== "\n") this.pos++;
      } else return;
    }
  }

  /** alternatives separated by | until ) or the end. */
  private alternation(): [string, Width] {
    const branches: [string, Width][] = [this.sequence()];
    while (this.peek() === "|") {
      this.pos++;
      branches.push(this.sequence());
    }
    const source = branches.map((b) => b[0]).join("|");
    const width: Width = [Math.min(...branches.map((b) => b[1][0])), Math.max(...branches.map((b) => b[1][1]))];
    return [source, width];
  }

  private sequence(): [string, Width] {
    let source = "";
    const width: Width = [0, 0];
    for (;;) {
      this.skipVerbose();
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      if ("*+?".includes(c) || (c === "{" && this.quantifierBraces() !== undefined)) {
        throw this.error(source === "" ? "nothing to repeat" : "multiple repeat");
      }
      const atom = this.atom();
      if (atom === undefined) continue; // a comment group
      const [text, w, quantifiable] = atom;
      const q = this.quantifier();
      if (q) {
        if (!quantifiable) throw this.error("nothing to repeat");
        source += `(?:${text})${q.text}`;
        width[0] += w[0] * q.min;
        width[1] += w[1] === 0 ? 0 : q.max === Infinity || w[1] === Infinity ? Infinity : w[1] * q.max;
      } else {
        source += text;
        width[0] += w[0];
        width[1] += w[1];
      }
    }
    return [source, width];
  }

  /** {m}, {m,}, {,n}, {m,n}, {,} at the current position, or undefined when "{" is a literal. */
  private quantifierBraces(): { min: number; max: number; length: number } | undefined {
    const rest = this.chars.slice(this.pos, this.pos + 64).join("");
    const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(rest);
    if (!m || m[0] === "{}") return undefined;
    const lo = m[1]!;
    const hi = m[2] ? m[3]! : lo;
    return { min: lo ? Number(lo) : 0, max: hi ? Number(hi) : Infinity, length: m[0].length };
  }

  private quantifier(): { text: string; min: number; max: number } | undefined {
    this.skipVerbose();
    const c = this.peek();
    let base: { text: string; min: number; max: number } | undefined;
    if (c === "*") base = { text: "*", min: 0, max: Infinity };
    else if (c === "+") base = { text: "+", min: 1, max: Infinity };
    else if (c === "?") base = { text: "?", min: 0, max: 1 };
    else if (c === "{") {
      const b = this.quantifierBraces();
      if (!b) return undefined;
      if (b.max < b.min) throw this.error("min repeat greater than max repeat");
      base = { text: `{${b.min},${b.max === Infinity ? "" : b.max}}`, min: b.min, max: b.max };
      this.pos += b.length - 1;
    }
    if (!base) return undefined;
    this.pos++;
    const after = this.peek();
    if (after === "?") {
      this.pos++;
      base.text += "?";
    } else if (after === "+") {
      throw this.unsupported("possessive quantifier");
    }
    this.skipVerbose();
    const again = this.peek();
    if (again !== undefined && ("*+?".includes(again) || (again === "{" && this.quantifierBraces() !== undefined))) {
      throw this.error("multiple repeat");
    }
    return base;
  }

  /** One atom: [js source, width, may be quantified]; undefined for a comment. */
  private atom(): [string, Width, boolean] | undefined {
    const start = this.pos;
    const c = this.next();
    switch (c) {
      case ".":
        return [this.scope.dotAll ? "[\\s\\S]" : "[^\\n]", [1, 1], true];
      case "^":
        return [this.scope.multiline ? "(?:^|(?<=\\n))" : "^", [0, 0], false];
      case "$":
        return [this.scope.multiline ? "(?=\\n|$)" : "(?=\\n?$)", [0, 0], false];
      case "[":
        return [this.characterClass(start), [1, 1], true];
      case "(":
        return this.group(start);
      case "\\":
        return this.escape(start);
      case "{":
        return ["\\{", [1, 1], true];
      default:
        return [literalPattern(c.codePointAt(0)!, this.fold), [1, 1], true];
    }
  }

  private group(start: number): [string, Width, boolean] | undefined {
    if (this.peek() !== "?") return this.capture(start, undefined);
    this.pos++;
    const c = this.next();
    if (c === ":") return this.wrap("(?:", start);
    if (c === "=" || c === "!") return this.lookaround(`(?${c}`, start, false);
    if (c === "#") {
      while (this.peek() !== ")") {
        if (this.peek() === undefined) throw this.error("missing ), unterminated comment", start);
        this.pos++;
      }
      this.pos++;
      return undefined;
    }
    if (c === "<") {
      const d = this.next();
      if (d === "=" || d === "!") return this.lookaround(`(?<${d}`, start, true);
      throw this.error(`unknown extension ?<${d}`, start);
    }
    if (c === "P") {
      const d = this.next();
      if (d === "<") return this.capture(start, this.name(">"));
      if (d === "=") {
        const name = this.name(")");
        const index = this.names.get(name);
        if (index === undefined) throw this.error(`unknown group name '${name}'`, start);
        if (this.openGroups.has(index)) throw this.error("cannot refer to an open group", start);
        return [this.backreference(`k<${name}>`), [0, Infinity], true];
      }
      throw this.error(`unknown extension ?P${d}`, start);
    }
    if (c === ">") throw this.unsupported("atomic group (?>...)");
    if (c === "(") throw this.unsupported("conditional group (?(...)...)");
    if ("aiLmsux-".includes(c)) return this.scopedFlags(c, start);
    throw this.error(`unknown extension ?${c}`, start);
  }

  private name(terminator: string): string {
    let name = "";
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error("missing group name terminator");
      this.pos++;
      if (c === terminator) break;
      name += c;
    }
    if (!/^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(name)) throw this.error(`bad character in group name '${name}'`);
    return name;
  }

  private capture(start: number, name: string | undefined): [string, Width, boolean] {
    const index = ++this.groups;
    if (name !== undefined) {
      if (this.names.has(name)) throw this.error(`redefinition of group name '${name}'`, start);
      this.names.set(name, index);
    }
    this.openGroups.add(index);
    const result = this.wrap(name === undefined ? "(" : `(?<${name}>`, start);
    this.openGroups.delete(index);
    return result;
  }

  private wrap(open: string, start: number): [string, Width, boolean] {
    const [inner, width] = this.alternation();
    if (this.peek() !== ")") throw this.error("missing ), unterminated subpattern", start);
    this.pos++;
    return [`${open}${inner})`, width, true];
  }

  private lookaround(open: string, start: number, behind: boolean): [string, Width, boolean] {
    const [inner, width] = this.alternation();
    if (this.peek() !== ")") throw this.error("missing ), unterminated subpattern", start);
    this.pos++;
    if (behind && width[0] !== width[1]) throw this.error("look-behind requires fixed-width pattern", start);
    // JS rejects a quantified look-around; Python allows it, so wrap it.
    return [`(?:${open}${inner}))`, [0, 0], true];
  }

  private scopedFlags(first: string, start: number): [string, Width, boolean] {
    let on = "";
    let off = "";
    let c = first;
    let negative = false;
    for (;;) {
      if (c === "-") {
        if (negative) throw this.error("bad inline flags");
        negative = true;
      } else if (c === ":") break;
      else if (c === ")") throw this.error("global flags not at the start of the expression", start);
      else if ("aiLmsux".includes(c)) {
        if (negative) off += c;
        else on += c;
      } else throw this.error("unknown flag", this.pos - 1);
      c = this.next();
    }
    if (on.includes("L")) throw this.error("bad inline flags: cannot use 'L' flag with a str pattern", start);
    if (/[aLu]/.test(off)) throw this.error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'", start);
    if (on.includes("a") || on.includes("u")) throw this.unsupported("scoped (?a:...)/(?u:...) flags");
    const outer = this.scope;
    const scope: Scope = { ...outer };
    for (const f of on) {
      if (f === "m") scope.multiline = true;
      if (f === "s") scope.dotAll = true;
      if (f === "x") scope.verbose = true;
      if (f === "i") scope.ignoreCase = true;
    }
    for (const f of off) {
      if (f === "m") scope.multiline = false;
      if (f === "s") scope.dotAll = false;
      if (f === "x") scope.verbose = false;
      if (f === "i") scope.ignoreCase = false;
    }
    this.scopes.push(scope);
    try {
      return this.wrap("(?:", start);
    } finally {
      this.scopes.pop();
    }
  }

  // --- classes and escapes -------------------------------------------------

  private digitClass(negated: boolean): string {
    const set = this.ascii ? "0-9" : "\\p{Nd}";
    return negated ? `[^${set}]` : `[${set}]`;
  }

  private wordSet(): string {
    return this.ascii ? ASCII_WORD : PY_WORD;
  }

  private spaceSet(): string {
    return this.ascii ? ASCII_SPACE : PY_SPACE;
  }

  private boundary(negated: boolean): string {
    const w = `[${this.wordSet()}]`;
    return negated ? `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))` : `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
  }

  private escape(start: number): [string, Width, boolean] {
    const c = this.peek();
    if (c === undefined) throw this.error("bad escape (end of pattern)", start);
    this.pos++;
    switch (c) {
      case "A":
        return ["^", [0, 0], false];
      case "Z":
        return ["$", [0, 0], false];
      case "b":
        return [this.boundary(false), [0, 0], false];
      case "B":
        return [this.boundary(true), [0, 0], false];
      case "d":
        return [this.digitClass(false), [1, 1], true];
      case "D":
        return [this.digitClass(true), [1, 1], true];
      case "w":
        return [`[${this.wordSet()}]`, [1, 1], true];
      case "W":
        return [`[^${this.wordSet()}]`, [1, 1], true];
      case "s":
        return [`[${this.spaceSet()}]`, [1, 1], true];
      case "S":
        return [`[^${this.spaceSet()}]`, [1, 1], true];
    }
    if (DIGIT.test(c)) {
      // Octal escape (\0, \0oo, three octal digits) or a group reference.
      if (c === "0") return [literalPattern(this.octal("0", 2), this.fold), [1, 1], true];
      let digits = c;
      if (this.peek() !== undefined && DIGIT.test(this.peek()!)) {
        digits += this.next();
        if (OCT.test(digits[0]!) && OCT.test(digits[1]!) && this.peek() !== undefined && OCT.test(this.peek()!)) {
          digits += this.next();
          const value = parseInt(digits, 8);
          if (value > 0o377) throw this.error(`octal escape value \\${digits} outside of range 0-0o377`, start);
          return [literalPattern(value, this.fold), [1, 1], true];
        }
      }
      const group = Number(digits);
      if (group > this.groups) throw this.error(`invalid group reference ${group}`, start + 1);
      if (this.openGroups.has(group)) throw this.error("cannot refer to an open group", start);
      return [this.backreference(String(group)), [0, Infinity], true];
    }
    return [literalPattern(this.escapedCodePoint(c, start, false), this.fold), [1, 1], true];
  }

  /** After "\" + c (not a class shorthand): the literal code point it stands for. */
  private escapedCodePoint(c: string, start: number, inClass: boolean): number {
    switch (c) {
      case "a":
        return 7;
      case "f":
        return 12;
      case "n":
        return 10;
      case "r":
        return 13;
      case "t":
        return 9;
      case "v":
        return 11;
      case "x":
        return this.hex(2, start);
      case "u":
        return this.hex(4, start);
      case "U": {
        const cp = this.hex(8, start);
        if (cp > 0x10ffff) throw this.error(`bad escape \\U`, start);
        return cp;
      }
      case "N":
        throw this.unsupported("\\N{...} named character");
    }
    if (inClass && c === "b") return 8;
    if (ASCII_LETTER.test(c) || DIGIT.test(c)) throw this.error(`bad escape \\${c}`, start);
    return c.codePointAt(0)!;
  }

  private hex(count: number, start: number): number {
    let digits = "";
    for (let i = 0; i < count; i++) {
      const d = this.peek();
      if (d === undefined || !HEX.test(d)) throw this.error(`incomplete escape`, start);
      digits += d;
      this.pos++;
    }
    return parseInt(digits, 16);
  }

  /** Octal digits after `first`, up to `more` more. */
  private octal(first: string, more: number): number {
    let digits = first;
    for (let i = 0; i < more && this.peek() !== undefined && OCT.test(this.peek()!); i++) digits += this.next();
    return parseInt(digits, 8);
  }

  /** A set like [...] or [^...] (the "[" consumed). */
  private characterClass(start: number): string {
    let negated = false;
    if (this.peek() === "^") {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error("unterminated character set", start);
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      const lo = this.classAtom(start);
      if (typeof lo === "string") {
        // A negated shorthand cannot stand in a JS class: it becomes an alternative.
        items.push(lo.startsWith("!") ? { kind: "category", alt: lo.slice(1) } : { kind: "category", safe: lo });
        if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
          throw this.error("bad character range", this.pos);
        }
        continue;
      }
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.pos++;
        const hiStart = this.pos;
        const hi = this.classAtom(start);
        if (typeof hi === "string") throw this.error("bad character range", hiStart);
        if (hi < lo) throw this.error("bad character range", hiStart);
        items.push({ kind: "range", lo, hi, literal: false });
      } else {
        items.push({ kind: "range", lo, hi: lo, literal: true });
      }
    }
    return classPattern(negated, items, this.fold);
  }

  /**
   * One member of a set: a code point, or a string for a shorthand class
   * (its class-safe content, or "!" + a standalone pattern for a negated one).
   */
  private classAtom(start: number): number | string {
    const c = this.next();
    if (c !== "\\") return c.codePointAt(0)!;
    const e = this.peek();
    if (e === undefined) throw this.error("unterminated character set", start);
    this.pos++;
    switch (e) {
      case "d":
        return this.ascii ? "0-9" : "\\p{Nd}";
      case "D":
        return `!${this.digitClass(true)}`;
      case "w":
        return this.wordSet();
      case "W":
        return `![^${this.wordSet()}]`;
      case "s":
        return this.spaceSet();
      case "S":
        return `![^${this.spaceSet()}]`;
    }
    if (OCT.test(e)) {
      const value = this.octal(e, 2);
      if (value > 0o377) throw this.error("octal escape value outside of range 0-0o377", start);
      return value;
    }
    if (DIGIT.test(e)) throw this.error(`bad escape \\${e}`, this.pos - 2);
    return this.escapedCodePoint(e, this.pos - 2, true);
  }
}

/** Compiles a Python regex, or returns the reason Python would reject it. */
export function tryPythonRegex(pattern: string, flags: PythonRegexFlags = {}): PythonRegex | PythonRegexError {
  try {
    return new PythonRegex(pattern, flags);
  } catch (err) {
    if (err instanceof PythonRegexError) return err;
    throw err;
  }
}

/** Python's re.escape: the text as a Python pattern that matches it literally. */
export function pythonReEscape(text: string): string {
  return [...text].map((c) => ("()[]{}?*+-|^$\\.&~# \t\n\r\v\f".includes(c) ? `\\${c}` : c)).join("");
}

/** A literal inside a JS `u` pattern (exact: no Python IGNORECASE; see pythonReEscape). */
export function escapeForJsRegex(text: string): string {
  return [...text].map((c) => jsLiteral(c.codePointAt(0)!)).join("");
}
