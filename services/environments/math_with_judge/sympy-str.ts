// SymPy's `str` of a parsed answer, for the forms it prints plainly:
// integers, reduced fractions, floats (15 significant digits), pi/E/oo,
// symbols, n*pi, sqrt(n), percentages (`50*(1/100)`), intervals, sets and
// Eq(a, b). Larger expressions are printed in the same style, but SymPy's
// term ordering is not reproduced there.
import { type Node, valueOf } from "./latex.js";

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** SymPy's Float str: 15 significant digits, trailing zeros dropped inside a larger expression. */
function floatStr(v: number, nested = false): string {
  if (v === 0) return nested ? "0.0" : "0";
  let t = v.toPrecision(15);
  if (nested && !t.includes("e")) t = t.replace(/0+$/, "").replace(/\.$/, ".0");
  if (t.includes("e")) {
    const [m, e] = t.split("e");
    return `${m}e${e!.startsWith("+") ? e!.slice(1) : e}`;
  }
  return t;
}

/** Integer or reduced fraction of two integer literals, as latex2sympy makes `\frac{2}{4}`. */
function ratOf(n: Node): { p: bigint; q: bigint } | null {
  if (n.k === "int") return { p: n.v, q: 1n };
  if (n.k === "rat") return { p: n.p, q: n.q };
  const num = n.k === "div" ? (n.num.k === "int" ? n.num.v : n.num.k === "neg" && n.num.x.k === "int" ? -n.num.x.v : null) : null;
  if (n.k === "div" && num !== null && n.den.k === "int" && n.den.v !== 0n) {
    const g = gcd(num, n.den.v);
    const [p, q] = [num / g, n.den.v / g];
    return q < 0n ? { p: -p, q: -q } : { p, q };
  }
  if (n.k === "neg") {
    const r = ratOf(n.x);
    return r && { p: -r.p, q: r.q };
  }
  return null;
}

function ratStr(r: { p: bigint; q: bigint }): string {
  return r.q === 1n ? r.p.toString() : `${r.p}/${r.q}`;
}

const PREC = { add: 1, mul: 2, pow: 3, atom: 4 } as const;

function prec(n: Node): number {
  const r = ratOf(n);
  if (r) return r.p < 0n ? PREC.add : r.q === 1n ? PREC.atom : PREC.mul;
  switch (n.k) {
    case "add":
      return PREC.add;
    case "neg":
    case "mul":
    case "div":
    case "pct":
      return PREC.mul;
    case "pow":
      return n.base.k === "const" && n.base.name === "E" ? PREC.atom : PREC.pow;
    default:
      return PREC.atom;
  }
}

function wrap(n: Node, min: number): string {
  const s = sympyStr(n);
  return prec(n) < min ? `(${s})` : s;
}

function isNumberLike(n: Node): boolean {
  return ratOf(n) !== null || n.k === "float";
}

let depth = 0;

export function sympyStr(n: Node): string {
  depth++;
  try {
    return print(n);
  } finally {
    depth--;
  }
}

function print(n: Node): string {
  const r = ratOf(n);
  if (r) return ratStr(r);
  switch (n.k) {
    case "float":
      return floatStr(n.v, depth > 1);
    case "sym":
      return n.name;
    case "const":
      return n.name;
    case "neg":
      return n.x.k === "float" ? floatStr(-n.x.v, depth > 1) : `-${wrap(n.x, PREC.mul)}`;
    case "add": {
      // SymPy prints symbols' terms first and the number last
      const terms = [...n.terms].sort((a, b) => Number(isNumberLike(a)) - Number(isNumberLike(b)));
      let out = "";
      terms.forEach((t, i) => {
        const neg = t.k === "neg" || (ratOf(t)?.p ?? 0n) < 0n;
        const body = t.k === "neg" ? wrap(t.x, PREC.add + 1) : neg ? ratStr({ p: -ratOf(t)!.p, q: ratOf(t)!.q }) : wrap(t, PREC.add);
        out += i === 0 ? (neg ? `-${body}` : body) : neg ? ` - ${body}` : ` + ${body}`;
      });
      return out;
    }
    case "mul":
      return n.factors.map((f) => wrap(f, PREC.mul + (f.k === "div" ? 1 : 0))).join("*");
    case "div":
      return `${wrap(n.num, PREC.mul)}/${wrap(n.den, PREC.pow)}`;
    case "pow":
      if (n.base.k === "const" && n.base.name === "E") return `exp(${sympyStr(n.exp)})`;
      if (ratOf(n.exp)?.p === 1n && ratOf(n.exp)?.q === 2n && n.exp.k !== "float") return `sqrt(${sympyStr(n.base)})`;
      return `${wrap(n.base, PREC.pow + 1)}**${wrap(n.exp, PREC.pow + 1)}`;
    case "pct":
      return `${wrap(n.x, PREC.mul)}*(1/100)`;
    case "fn":
      if (n.name === "root") return `${wrap(n.args[0]!, PREC.pow + 1)}**(1/${sympyStr(n.args[1]!)})`;
      if (n.name === "logb") return `log(${sympyStr(n.args[0]!)}, ${sympyStr(n.args[1]!)})`;
      if (n.name === "log") return `log(${n.args.map(sympyStr).join(", ")}, 10)`;
      return `${n.name === "ln" ? "log" : n.name}(${n.args.map(sympyStr).join(", ")})`;
    case "set":
      return `{${setItems(n.items).map(sympyStr).join(", ")}}`;
    case "tuple":
      return `(${n.items.map(sympyStr).join(", ")})`;
    case "rel":
      return `${sympyStr(n.lhs)} ${n.op} ${sympyStr(n.rhs)}`;
    case "interval": {
      // SymPy's StrPrinter: an infinite end's openness is not written
      const inf = (x: Node) => (x.k === "const" && x.name === "oo") || (x.k === "neg" && x.x.k === "const" && x.x.name === "oo");
      const plain = (inf(n.lo) && inf(n.hi)) || (inf(n.lo) && !n.ropen) || (inf(n.hi) && !n.lopen) || (!n.lopen && !n.ropen);
      const kind = plain ? "" : n.lopen && n.ropen ? ".open" : n.lopen ? ".Lopen" : ".Ropen";
      return `Interval${kind}(${sympyStr(n.lo)}, ${sympyStr(n.hi)})`;
    }
    case "eq":
      return `Eq(${sympyStr(n.lhs)}, ${sympyStr(n.rhs)})`;
    default:
      return "";
  }
}

/** A FiniteSet's elements: duplicates dropped, in value order (as SymPy prints them). */
export function setItems(items: Node[]): Node[] {
  const seen = new Set<string>();
  const out = items.filter((x) => {
    const key = sympyStr(x);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return out.sort((a, b) => valueOf(a).re - valueOf(b).re);
}

