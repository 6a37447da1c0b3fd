// A small LaTeX math parser for final answers (what latex2sympy2_extended
// reads for math-verify 0.8.0), its values through mathjs, and SymPy's `str`
// of the common forms (the release's `extracted_answer` is that string).
import { abs, all, type BigNumber, type Complex, compile, create, fraction, type Fraction, isComplex } from "mathjs";

/** mathjs with 64-digit decimals: constant answers such as (1+\sqrt3)^{4033} overflow doubles. */
const big = create(all, { number: "BigNumber", precision: 64 });

export type Node =
  | { k: "int"; v: bigint }
  | { k: "rat"; p: bigint; q: bigint }
  | { k: "float"; text: string; v: number }
  | { k: "sym"; name: string }
  | { k: "const"; name: "pi" | "E" | "oo" | "I" }
  | { k: "neg"; x: Node }
  | { k: "add"; terms: Node[] }
  | { k: "mul"; factors: Node[] }
  | { k: "div"; num: Node; den: Node }
  | { k: "pow"; base: Node; exp: Node }
  | { k: "fn"; name: string; args: Node[] }
  | { k: "pct"; x: Node }
  | { k: "set"; items: Node[] }
  | { k: "tuple"; items: Node[] }
  | { k: "rel"; op: "<" | ">" | "<=" | ">=" | "!="; lhs: Node; rhs: Node }
  | { k: "interval"; lo: Node; hi: Node; lopen: boolean; ropen: boolean }
  | { k: "eq"; lhs: Node; rhs: Node };

export class LatexParseError extends Error {}

const FUNCTIONS = new Set(["sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp"]);
const GREEK = new Set(["alpha", "beta", "gamma", "delta", "epsilon", "theta", "lambda", "mu", "sigma", "phi", "omega", "rho", "tau", "xi", "eta", "zeta", "kappa", "nu", "chi", "psi"]);

type Tok = { t: "num" | "cmd" | "ch"; s: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // 1,000,000 is one number (latex2sympy's NUMBER), 1, 2 a list
      const m = /^(\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(\.\d+)?|\.\d+)/.exec(src.slice(i));
      if (!m) throw new LatexParseError(`bad number at ${i}`);
      out.push({ t: "num", s: m[0].replace(/,/g, "") });
      i += m[0].length;
      continue;
    }
    if (c === "\\") {
      const m = /^\\([A-Za-z]+|.)/.exec(src.slice(i));
      if (!m) throw new LatexParseError("lone backslash");
      out.push({ t: "cmd", s: m[1]! });
      i += m[0].length;
      continue;
    }
    out.push({ t: "ch", s: c });
    i++;
  }
  return out;
}

const SPACING = new Set([",", ";", ":", "!", " ", "quad", "qquad", "displaystyle", "left", "right", "big", "Big", "bigl", "bigr", "mathrm", "mathbf", "mathit", "textstyle"]);

class Parser {
  private i = 0;
  /** `i` is the imaginary unit only where the text looks complex (math-verify's should_treat_as_complex). */
  constructor(
    private toks: Tok[],
    private complex: boolean,
  ) {
    this.toks = toks.filter((t) => !(t.t === "cmd" && SPACING.has(t.s) && t.s !== "mathrm" && t.s !== "mathbf" && t.s !== "mathit"));
  }
  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private isCh(s: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === "ch" && t.s === s;
  }
  private isCmd(...s: string[]): boolean {
    const t = this.peek();
    return t !== undefined && t.t === "cmd" && s.includes(t.s);
  }
  private expect(s: string): void {
    if (!this.isCh(s)) throw new LatexParseError(`expected ${s}`);
    this.i++;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }

  /** The whole answer: a relation, a list (a set), an interval, or an expression. */
  top(): Node {
    const open = this.toks[0];
    const close = this.toks[this.toks.length - 1];
    if (open?.t === "cmd" && open.s === "{" && close?.t === "cmd" && close.s === "}") {
      this.toks = this.toks.slice(1, -1);
      const inner = this.top();
      return inner.k === "set" ? inner : { k: "set", items: [inner] };
    }
    const pm = this.toks.findIndex((t) => t.t === "cmd" && (t.s === "pm" || t.s === "mp"));
    if (pm >= 0 && this.toks.filter((t) => t.t === "cmd" && t.s === "pm").length === 1) {
      // a \pm b: the set {a - b, a + b}, as latex2sympy reads it
      const right = new Parser(this.toks.slice(pm + 1), this.complex).top();
      const left = pm > 0 ? new Parser(this.toks.slice(0, pm), this.complex).top() : null;
      this.i = this.toks.length;
      return { k: "set", items: left ? [{ k: "add", terms: [left, { k: "neg", x: right }] }, { k: "add", terms: [left, right] }] : [{ k: "neg", x: right }, right] };
    }
    const interval = this.tryInterval();
    if (interval) return interval;
    const first = this.relation();
    if (this.isCh(",") || this.isCh(";")) {
      const items = [first];
      while (this.isCh(",") || this.isCh(";")) {
        this.i++;
        items.push(this.relation());
      }
      if (!this.done()) throw new LatexParseError("trailing input");
      return { k: "set", items };
    }
    if (!this.done()) throw new LatexParseError("trailing input");
    return first;
  }

  private tryInterval(): Node | null {
    const first = this.peek();
    const last = this.toks[this.toks.length - 1];
    if (!first || !last || first.t !== "ch" || last.t !== "ch") return null;
    if (!"([".includes(first.s) || !")]".includes(last.s)) return null;
    // exactly one top-level comma between the outer brackets
    let depth = 0;
    let commas = 0;
    for (let j = 1; j < this.toks.length - 1; j++) {
      const t = this.toks[j]!;
      if (t.t === "ch" && "([{".includes(t.s)) depth++;
      else if (t.t === "ch" && ")]}".includes(t.s)) depth--;
      if (depth < 0) return null;
      if (depth === 0 && t.t === "ch" && t.s === ",") commas++;
    }
    if (commas !== 1 || depth !== 0) return null;
    const save = this.i;
    try {
      this.i++;
      const lo = this.sum();
      this.expect(",");
      const hi = this.sum();
      if (this.i !== this.toks.length - 1) throw new LatexParseError("not an interval");
      this.i++;
      // SymPy makes an infinite end open
      const lv = valueOf(lo).re;
      const hv = valueOf(hi).re;
      if (lv > hv) return { k: "tuple", items: [lo, hi] }; // SymPy: an empty interval, latex2sympy keeps the pair
      const infinite = (n: Node) => (n.k === "const" && n.name === "oo") || (n.k === "neg" && n.x.k === "const" && n.x.name === "oo");
      return { k: "interval", lo, hi, lopen: first.s === "(" || infinite(lo), ropen: last.s === ")" || infinite(hi) };
    } catch {
      this.i = save;
      return null;
    }
  }

  private relation(): Node {
    const lhs = this.sum();
    if (this.isCh("=")) {
      this.i++;
      const rhs = this.relation();
      return { k: "eq", lhs, rhs };
    }
    const op = this.isCh("<") ? "<" : this.isCh(">") ? ">" : this.isCmd("le", "leq") ? "<=" : this.isCmd("ge", "geq") ? ">=" : this.isCmd("neq", "ne") ? "!=" : null;
    if (op) {
      this.i++;
      return { k: "rel", op, lhs, rhs: this.sum() };
    }
    return lhs;
  }

  private sum(): Node {
    const terms: Node[] = [this.product()];
    for (;;) {
      if (this.isCh("+")) {
        this.i++;
        terms.push(this.product());
      } else if (this.isCh("-") || this.isCmd("pm")) {
        if (this.isCmd("pm")) throw new LatexParseError("\\pm is not supported");
        this.i++;
        terms.push({ k: "neg", x: this.product() });
      } else break;
    }
    return terms.length === 1 ? terms[0]! : { k: "add", terms };
  }

  private product(): Node {
    let left = this.unary();
    for (;;) {
      if (this.isCh("*") || this.isCmd("cdot", "times")) {
        this.i++;
        left = mulOf(left, this.unary());
      } else if (this.isCh("/") || this.isCmd("div")) {
        this.i++;
        left = { k: "div", num: left, den: this.unary() };
      } else if (this.startsAtom()) {
        const right = this.power();
        // 3\frac{1}{2} is a mixed number (latex2sympy)
        if (left.k === "int" && right.k === "div" && right.num.k === "int" && right.den.k === "int" && right.den.v !== 0n) {
          left = { k: "rat", p: left.v * right.den.v + right.num.v, q: right.den.v };
          continue;
        }
        left = mulOf(left, right);
      } else break;
    }
    return left;
  }

  private startsAtom(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.t === "num") return true;
    if (t.t === "ch") return /[A-Za-z({[]/.test(t.s);
    return !["cdot", "times", "div", "pm", "mp", "%", "le", "leq", "ge", "geq", "neq", "ne"].includes(t.s);
  }

  private unary(): Node {
    if (this.isCh("-")) {
      this.i++;
      return { k: "neg", x: this.unary() };
    }
    if (this.isCh("+")) {
      this.i++;
      return this.unary();
    }
    return this.power();
  }

  private power(): Node {
    let base = this.atom();
    for (;;) {
      if (this.isCh("^")) {
        this.i++;
        base = { k: "pow", base, exp: this.group() };
      } else if (this.isCh("!")) {
        this.i++;
        base = { k: "fn", name: "factorial", args: [base] };
      } else if (this.isCmd("%") || this.isCh("%")) {
        this.i++;
        base = { k: "pct", x: base };
      } else break;
    }
    return base;
  }

  /** A `{...}` group, or one token (`x^2`, `\frac12`). */
  private group(): Node {
    if (this.isCh("{")) {
      this.i++;
      const e = this.sum();
      this.expect("}");
      return e;
    }
    const t = this.peek();
    if (t?.t === "num") {
      this.i++;
      // `x^23` reads one digit, as TeX does
      if (t.s.length > 1 && /^\d+$/.test(t.s)) {
        this.toks.splice(this.i, 0, { t: "num", s: t.s.slice(1) });
        return { k: "int", v: BigInt(t.s[0]!) };
      }
      return numberNode(t.s);
    }
    return this.atom();
  }

  private atom(): Node {
    const t = this.peek();
    if (!t) throw new LatexParseError("unexpected end");
    this.i++;
    if (t.t === "num") return numberNode(t.s);
    if (t.t === "ch") {
      if (t.s === "(" || t.s === "[" || t.s === "{") {
        const close = t.s === "(" ? ")" : t.s === "[" ? "]" : "}";
        const e = this.sum();
        this.expect(close);
        return e;
      }
      if (/[A-Za-z]/.test(t.s)) {
        // latex2sympy lower-cases symbols; e is Euler's number
        const name = t.s.toLowerCase();
        if (name === "e") return { k: "const", name: "E" };
        if (name === "i" && this.complex) return { k: "const", name: "I" };
        return { k: "sym", name };
      }
      throw new LatexParseError(`unexpected ${t.s}`);
    }
    switch (t.s) {
      case "frac":
      case "dfrac":
      case "tfrac":
        return { k: "div", num: this.group(), den: this.group() };
      case "sqrt": {
        if (this.isCh("[")) {
          this.i++;
          const n = this.sum();
          this.expect("]");
          return { k: "fn", name: "root", args: [this.group(), n] };
        }
        return { k: "fn", name: "sqrt", args: [this.group()] };
      }
      case "pi":
        return { k: "const", name: "pi" };
      case "infty":
        return { k: "const", name: "oo" };
      case "mathrm":
      case "mathbf":
      case "mathit":
      case "text":
      case "textbf":
        return this.textGroup();
      default:
        if (t.s === "log" && this.isCh("_")) {
          this.i++;
          const base = this.group();
          return { k: "fn", name: "logb", args: [this.power(), base] };
        }
        if (FUNCTIONS.has(t.s)) {
          // \sin^2 x is (sin x)^2
          if (this.isCh("^")) {
            this.i++;
            const exp = this.group();
            return { k: "pow", base: { k: "fn", name: t.s, args: [this.power()] }, exp };
          }
          return { k: "fn", name: t.s, args: [this.power()] };
        }
        if (t.s === "binom" || t.s === "dbinom" || t.s === "tbinom") {
          const n = this.group();
          const r = this.group();
          if (n.k === "int" && r.k === "int") return { k: "int", v: binomial(n.v, r.v) };
          return { k: "fn", name: "binomial", args: [n, r] };
        }
        if (GREEK.has(t.s)) return { k: "sym", name: t.s };
        throw new LatexParseError(`unsupported \\${t.s}`);
    }
  }

  /** `\text{Yes}`: a word, read as one lower-case symbol. */
  private textGroup(): Node {
    this.expect("{");
    let word = "";
    while (!this.isCh("}")) {
      const t = this.peek();
      if (!t) throw new LatexParseError("unclosed text");
      word += t.s;
      this.i++;
    }
    this.i++;
    if (/^\d+$/.test(word)) return { k: "int", v: BigInt(word) };
    const paren = /^\(([A-Za-z])\)$/.exec(word);
    if (paren) return { k: "sym", name: paren[1]!.toLowerCase() };
    if (!/^[A-Za-z]+$/.test(word)) throw new LatexParseError(`text ${word}`);
    return word === "e" ? { k: "const", name: "E" } : { k: "sym", name: word.length > 1 ? word.toLowerCase() : word };
  }
}

function binomial(n: bigint, r: bigint): bigint {
  if (r < 0n || r > n) return 0n;
  let out = 1n;
  for (let i = 1n; i <= r; i++) out = (out * (n - r + i)) / i;
  return out;
}

function mulOf(a: Node, b: Node): Node {
  return a.k === "mul" ? { k: "mul", factors: [...a.factors, b] } : { k: "mul", factors: [a, b] };
}

function numberNode(s: string): Node {
  if (/^\d+$/.test(s)) return { k: "int", v: BigInt(s) };
  const text = s.startsWith(".") ? `0${s}` : s.endsWith(".") ? `${s}0` : s;
  return { k: "float", text, v: Number(text) };
}

const COMPLEX = /\\mathbb\{C\}|\\i\b|\bi\b|\\text\{i\}|\\mathrm\{i\}|\\imath\b|\\det|\\operatorname\{tr\}|\\operatorname\{rank\}|\\text\{rank\}|\\arg\{|\\Re\{|\\Im\{|\\operatorname\{Re\}|\\operatorname\{Im\}|\\text\{Re\}|\\text\{Im\}/;

export function parseLatex(src: string): Node {
  const p = new Parser(tokenize(src), COMPLEX.test(src));
  if (p.done()) throw new LatexParseError("empty");
  return p.top();
}

// --- values ------------------------------------------------------------

/** The mathjs expression of a node (for evaluation). */
export function toMathjs(n: Node): string {
  switch (n.k) {
    case "int":
      return n.v.toString();
    case "rat":
      return `(${n.p}/${n.q})`;
    case "float":
      return `(${n.text})`;
    case "sym":
      return `v_${n.name}`;
    case "const":
      return n.name === "pi" ? "pi" : n.name === "E" ? "e" : n.name === "I" ? "i" : "Infinity";
    case "neg":
      return `(-${toMathjs(n.x)})`;
    case "add":
      return `(${n.terms.map(toMathjs).join(" + ")})`;
    case "mul":
      return `(${n.factors.map(toMathjs).join(" * ")})`;
    case "div":
      return `(${toMathjs(n.num)} / ${toMathjs(n.den)})`;
    case "pow":
      return `(${toMathjs(n.base)} ^ ${toMathjs(n.exp)})`;
    case "pct":
      return `(${toMathjs(n.x)} / 100)`;
    case "fn": {
      const args = n.args.map(toMathjs);
      const name = { ln: "log", log: "log10", arcsin: "asin", arccos: "acos", arctan: "atan", root: "nthRoot" }[n.name] ?? n.name;
      if (n.name === "root") return `nthRoot(${args[0]}, ${args[1]})`;
      if (n.name === "logb") return `log(${args[0]}, ${args[1]})`;
      if (n.name === "binomial") return `combinations(${args[0]}, ${args[1]})`;
      return `${name}(${args.join(", ")})`;
    }
    default:
      throw new LatexParseError(`no value for ${n.k}`);
  }
}

export function symbolsOf(n: Node, into = new Set<string>()): Set<string> {
  if (n.k === "sym") into.add(n.name);
  for (const v of Object.values(n)) {
    if (Array.isArray(v)) v.forEach((c) => typeof c === "object" && symbolsOf(c as Node, into));
    else if (v && typeof v === "object" && "k" in v) symbolsOf(v as Node, into);
  }
  return into;
}

/** The value of a node with the symbols set as given: a real or complex number (NaN when undefined). */
export function valueOf(n: Node, scope: Record<string, number> = {}): { re: number; im: number } {
  const vars: Record<string, number> = {};
  for (const [k, v] of Object.entries(scope)) vars[`v_${k}`] = v;
  try {
    const r = compile(toMathjs(n)).evaluate(vars) as number | Complex;
    if (isComplex(r)) return { re: r.re, im: r.im };
    if (typeof r === "number") return { re: r, im: 0 };
    return { re: Number(r), im: 0 };
  } catch {
    return { re: NaN, im: 0 };
  }
}

/** The value of a constant real node in 64-digit decimals, or null (complex, undefined, or not a number). */
export function bigValueOf(n: Node): BigNumber | null {
  try {
    const r: unknown = big.evaluate(toMathjs(n));
    if (big.isBigNumber(r) && r.isFinite()) return r;
  } catch {
    // not a real constant
  }
  return null;
}

/** |a - b| within `rel` of the larger magnitude (at least 1). */
export function bigClose(a: BigNumber, b: BigNumber, rel: string): boolean {
  const scale = big.max(big.bignumber(1), a.abs(), b.abs()) as BigNumber;
  return a.minus(b).abs().lte(scale.times(rel));
}

/** The exact value of a rational-only node (integers, fractions, + - * / and integer powers), else null. */
export function exactValue(n: Node): Fraction | null {
  try {
    switch (n.k) {
      case "int":
        return fraction(n.v, 1n);
      case "rat":
        return fraction(n.p, n.q);
      case "neg": {
        const x = exactValue(n.x);
        return x && x.neg();
      }
      case "add": {
        let s = fraction(0);
        for (const t of n.terms) {
          const x = exactValue(t);
          if (!x) return null;
          s = s.add(x);
        }
        return s;
      }
      case "mul": {
        let s = fraction(1);
        for (const t of n.factors) {
          const x = exactValue(t);
          if (!x) return null;
          s = s.mul(x);
        }
        return s;
      }
      case "div": {
        const a = exactValue(n.num);
        const b = exactValue(n.den);
        return a && b && !b.equals(0) ? a.div(b) : null;
      }
      case "pct": {
        const x = exactValue(n.x);
        return x && x.div(100);
      }
      case "pow": {
        const b = exactValue(n.base);
        const e = exactValue(n.exp);
        if (!b || !e || e.d !== 1n || abs(Number(e.n)) > 64) return null;
        if (b.equals(0) && e.s < 0n) return null;
        return b.pow(e);
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}

