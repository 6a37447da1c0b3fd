// The release's library verifier: math-verify 0.8.0 as NeMo Gym 0.7.0 calls it
// (gold: `\boxed{expected}` with LaTeX extraction; prediction: the last
// \boxed{} of the response, normalized as latex2sympy2_extended does), with
// equivalence decided on values computed by mathjs instead of SymPy.
import { bigClose, bigValueOf, exactValue, LatexParseError, type Node, parseLatex, symbolsOf, valueOf } from "./latex.js";
import { setItems, sympyStr } from "./sympy-str.js";

/** The exact contents of the last complete `\boxed{...}` (the release's gate before any scoring). */
export function extractLastBoxedAnswer(response: string): string | null {
  const start = response.lastIndexOf("\\boxed{");
  if (start < 0) return null;
  const from = start + "\\boxed{".length;
  let depth = 1;
  for (let i = from; i < response.length; i++) {
    if (response[i] === "{") depth++;
    else if (response[i] === "}" && --depth === 0) return response.slice(from, i);
  }
  return null;
}

/** Outer `\(...\)` and `$...$` of an expected answer (the release strips them before boxing it). */
export function stripMathDelimiters(s: string): string {
  s = s.trim();
  if (s.startsWith("\\(") && s.endsWith("\\)")) s = s.slice(2, -2).trim();
  if (s.startsWith("$") && s.endsWith("$") && s.length > 1) s = s.slice(1, -1).trim();
  return s;
}

const SEPARATOR = /and|or|,|;/;
const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

/**
 * latex2sympy2_extended's extract_boxed_content: the last \boxed{} (or \fbox{}),
 * with the boxes before it joined by commas when they sit close to it or are
 * separated from it by "and", "or", "," or ";" ("last"), or every box ("all").
 */
export function extractBoxedContent(text: string, mode: "last" | "all"): string {
  const results: string[] = [];
  let current = text.length;
  let maxPos = text.length;
  let lastBoxedStart: number | null = null;
  for (;;) {
    const boxed = text.lastIndexOf("\\boxed", current - 1);
    const fbox = text.lastIndexOf("\\fbox", current - 1);
    if (boxed < 0 && fbox < 0) break;
    const start = Math.max(boxed, fbox);
    let next = start + (boxed > fbox ? 6 : 5);
    while (next < maxPos && isSpace(text[next])) next++;
    if (next >= maxPos) break;
    if (text[next] !== "{") {
      if (results.length === 0) results.push(text.slice(next));
      break;
    }
    let depth = 1;
    let end = -1;
    for (let i = next; i + 1 < maxPos; ) {
      i++;
      if (text[i] === "{") depth++;
      else if (text[i] === "}" && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0) {
      if (results.length === 0) results.push(text.slice(next));
      break;
    }
    const content = text.slice(next + 1, end).trim();
    if (mode === "last" && lastBoxedStart !== null) {
      const between = text.slice(end + 1, lastBoxedStart);
      const previous = results.length ? results[results.length - 1] : "";
      const near = between.length < 10 || (previous !== content && between.length < 70 && SEPARATOR.test(between));
      if (!near) break;
    }
    results.push(content);
    lastBoxedStart = start;
    maxPos = start;
    current = start;
  }
  return results.length ? results.reverse().join(",") : text;
}

/**
 * What math-verify's LatexExtractionConfig normalization does to the answers
 * met here: \left/\right, spacing commands, units in \text{}, degrees, \$,
 * a leading ".", and "0.5" as \frac{1}{2}.
 */
export function normalizeLatex(text: string): string {
  let t = text
    .replace(/\\m?(left|right)(?=[\\()[\]{}|.])\\?/g, (m) => (m.endsWith("\\") ? "\\" : ""))
    .replace(/\\(displaystyle|textstyle|quad|qquad|[,;:! ])/g, " ")
    .replace(/\\\$/g, "")
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree/g, "")
    .replace(/[\n\t]/g, " ")
    .replace(/\\\\(?=[A-Za-z])/g, "\\");
  // units: a \text{} / \mbox{} word after the value
  const unitless = t.replace(/\s*\\(?:text|mbox|mathrm)\{\s*[A-Za-z][A-Za-z ]*\}\s*$/, "").trim();
  if (unitless !== "" && unitless !== t && /[\d}]$/.test(unitless)) t = unitless;
  t = t.trim();
  if (t.startsWith(".")) t = `0${t}`;
  if (t === "0.5") t = "\\frac{1}{2}";
  return t;
}

/** latex2sympy's parse of a normalized answer, again on the last `=` part when the whole does not parse. */
export function parseAnswer(latex: string): Node {
  try {
    return parseLatex(latex);
  } catch (e) {
    if (!latex.includes(",") && !latex.includes(";")) {
      const parts = latex.split(/(?<![\\<!>])=/);
      if (parts.length > 2) return parseLatex(parts[parts.length - 1]!);
    }
    throw e;
  }
}

export interface Extraction {
  /** The parsed answer, or null when it does not parse. */
  node: Node | null;
  /** The normalized LaTeX it was read from. */
  latex: string;
}

// math-verify's plain-number pattern (ExprExtractionConfig), with its anchors
const NUMBER =
  String.raw`(?<!\d)(?:(?<integer1>-?[1-9]\d{0,2}(?:[ ,]\d{3})+)(?<decimal1>\.\d+)?|(?<integer2>-?\d+)(?<decimal2>[.,]\d+)|(?<decimal3>\.\d+)|(?<integer3>-?\d+))(?<percent>\s*(?:%|[Pp]ercent|\s*[Pp]ercentage|\s*[Pp]ct))?`;
const CURRENCY = "$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿".replace(/[$]/g, "\\$");
const NUMBER_WITH_ANCHORS = String.raw`(?:(?:^|\s|=)(?:\*\*)?[${CURRENCY}]?${NUMBER})`;
const FINAL_ANSWER = "[Ff][Ii][Nn][Aa][Ll] [Aa][Nn][Ss][Ww][Ee][Rr]";
/** Priority 0, before any box: "final answer is 3. I hope ...". */
const FINAL_ANSWER_I_HOPE = new RegExp(String.raw`${FINAL_ANSWER} [Ii][Ss]:?\s*${NUMBER_WITH_ANCHORS}\.?\s?I hope`, "gu");
/** Priority 50, the box's own: "final answer ... is 3", the one ending last wins. */
const FINAL_ANSWER_IS = new RegExp(String.raw`${FINAL_ANSWER}.{0,100}?\s+is:?${NUMBER_WITH_ANCHORS}`, "gu");

/** A number that math-verify's expression pattern matched: `1,000` and `007` as integers, a decimal as a float, `%` as a percentage. */
function numberOf(groups: Record<string, string | undefined>): Extraction {
  const pick = (prefix: string) => Object.entries(groups).find(([k, v]) => k.startsWith(prefix) && v)?.[1] ?? "";
  let integer = pick("integer").replace(/[, ]/g, "").replace(/^0+/, "");
  if (integer === "") integer = "0";
  const decimal = pick("decimal").replace(",", ".");
  const text = `${integer}${decimal}`;
  const latex = groups.percent ? `${text}\\%` : text;
  return { node: parseLatex(latex), latex: text };
}

function lastMatch(re: RegExp, text: string): RegExpExecArray | null {
  let best: RegExpExecArray | null = null;
  for (const m of text.matchAll(re)) {
    const end = m.index + m[0].length;
    if (!best || end > best.index + best[0].length || (end === best.index + best[0].length && m.index < best.index)) best = m;
  }
  return best;
}

/**
 * The prediction as math-verify's parse finds it: "final answer is N. I hope"
 * first, else the last \boxed{} run of the text unless a "final answer ... is N"
 * ends after it (the release only gets here when there is a box).
 */
export function extractPrediction(text: string): Extraction | null {
  const hope = lastMatch(FINAL_ANSWER_I_HOPE, text);
  if (hope?.groups) return numberOf(hope.groups);
  const first = text.indexOf("\\boxed{");
  const last = text.lastIndexOf("}");
  if (first < 0 || last < first) return null;
  const finalIs = lastMatch(FINAL_ANSWER_IS, text);
  if (finalIs?.groups && finalIs.index + finalIs[0].length > last + 1) return numberOf(finalIs.groups);
  return read(extractBoxedContent(text.slice(first, last + 1), "last"));
}

/** The gold answer: `\boxed{expected}` read the same way. */
export function extractGold(expected: string): Extraction | null {
  return read(extractBoxedContent(`\\boxed{${stripMathDelimiters(expected)}}`, "last"));
}

function read(raw: string): Extraction | null {
  const latex = normalizeLatex(raw);
  if (!latex) return null;
  try {
    return { node: parseAnswer(latex), latex };
  } catch (e) {
    if (e instanceof LatexParseError || e instanceof RangeError || e instanceof SyntaxError) return { node: null, latex };
    throw e;
  }
}

// --- equivalence (math-verify's grader.verify) --------------------------------

const ROUND = 6;

function isEq(n: Node): n is Extract<Node, { k: "eq" }> {
  return n.k === "eq";
}

/** `a = b` whose left side is only symbols (math-verify's assignment). */
function isAssignment(n: Node): boolean {
  return isEq(n) && onlySymbols(n.lhs);
}

function onlySymbols(n: Node): boolean {
  if (n.k === "sym") return true;
  if (n.k === "mul") return n.factors.every(onlySymbols);
  return false;
}

function lastRhs(n: Node): Node {
  return isEq(n) ? lastRhs(n.rhs) : n;
}

function isNumberAtom(n: Node): boolean {
  if (n.k === "int" || n.k === "float" || n.k === "rat") return true;
  if (n.k === "neg") return n.x.k === "int" || n.x.k === "float";
  if (n.k === "div") return n.num.k === "int" && n.den.k === "int";
  if (n.k === "pct") return isNumberAtom(n.x);
  return false;
}

function hasFloat(n: Node): boolean {
  if (n.k === "float") return true;
  if (n.k === "neg" || n.k === "pct") return hasFloat(n.x);
  return false;
}

function closeTo(a: { re: number; im: number }, b: { re: number; im: number }, rel = 1e-12): boolean {
  if (![a.re, a.im, b.re, b.im].every(Number.isFinite)) return a.re === b.re && a.im === b.im && !Number.isNaN(a.re);
  const scale = Math.max(1, Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
  return Math.hypot(a.re - b.re, a.im - b.im) <= rel * scale;
}

/** Sample points for identity checks of expressions in symbols (SymPy simplifies; we evaluate). */
const POINTS = [0.7310585786, 1.6180339887, 2.2360679775, 3.1415926536 / 2, 0.3183098862];

function sameExpression(gold: Node, pred: Node): boolean {
  const names = [...new Set([...symbolsOf(gold), ...symbolsOf(pred)])];
  if (names.length === 0) {
    const a = exactValue(gold);
    const b = exactValue(pred);
    if (a && b) return a.equals(b);
    const ga = bigValueOf(gold);
    const pb = bigValueOf(pred);
    if (ga && pb) return bigClose(ga, pb, "1e-30");
    return closeTo(valueOf(gold), valueOf(pred));
  }
  let compared = 0;
  for (let p = 0; p < POINTS.length; p++) {
    const scope = Object.fromEntries(names.map((n, i) => [n, POINTS[(p + i) % POINTS.length]! + i * 0.1]));
    const a = valueOf(gold, scope);
    const b = valueOf(pred, scope);
    if (Number.isNaN(a.re) && Number.isNaN(b.re)) continue;
    if (!closeTo(a, b, 1e-9)) return false;
    compared++;
  }
  return compared > 0;
}

const FLIPPED = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "!=": "!=" } as const;

/** Relations: the same kind with equal lhs - rhs, or the flipped kind with lhs - rhs equal to rhs - lhs. */
function sameRelation(gold: Extract<Node, { k: "rel" }>, pred: Extract<Node, { k: "rel" }>): boolean {
  const diff = (n: Extract<Node, { k: "rel" }>): Node => ({ k: "add", terms: [n.lhs, { k: "neg", x: n.rhs }] });
  if (gold.op === pred.op && sameExpression(diff(gold), diff(pred))) return true;
  return FLIPPED[gold.op] === pred.op && sameExpression(diff(gold), { k: "neg", x: diff(pred) });
}

function sameSymbol(gold: Node, pred: Node): boolean {
  const isE = (n: Node) => n.k === "const" && n.name === "E";
  if ((gold.k === "sym" && gold.name.toLowerCase() === "e" && isE(pred)) || (pred.k === "sym" && pred.name.toLowerCase() === "e" && isE(gold))) return true;
  const concat = (n: Node) => (n.k === "mul" && n.factors.every((f) => f.k === "sym" || isE(f)) ? n.factors.map((f) => (f.k === "sym" ? f.name : "e")).join("") : null);
  if (gold.k === "sym" && concat(pred) !== null) return gold.name.toLowerCase() === concat(pred)!.toLowerCase();
  if (pred.k === "sym" && concat(gold) !== null) return pred.name.toLowerCase() === concat(gold)!.toLowerCase();
  if (gold.k === "sym" && pred.k === "sym") {
    const g = gold.name.length > 1 ? gold.name.toLowerCase() : gold.name;
    const p = pred.name.length > 1 ? pred.name.toLowerCase() : pred.name;
    return g === p;
  }
  return sympyStr(gold) === sympyStr(pred);
}

function sameSet(gold: Node, pred: Node): boolean {
  if (gold.k === "interval" && pred.k === "interval") {
    return gold.lopen === pred.lopen && gold.ropen === pred.ropen && answersEqual(gold.lo, pred.lo) && answersEqual(gold.hi, pred.hi);
  }
  // sets are compared in value order, tuples in their own
  const items = (n: Node): Node[] | null => (n.k === "set" ? setItems(n.items) : n.k === "tuple" ? n.items : n.k === "interval" ? null : [n]);
  const g = items(gold);
  const p = items(pred);
  if (g && p) {
    if (g.length !== p.length) return false;
    return g.every((x, i) => answersEqual(x, p[i]!));
  }
  // an open interval against a pair
  const interval = gold.k === "interval" ? gold : pred.k === "interval" ? pred : null;
  const pair = gold.k === "set" || gold.k === "tuple" ? gold : pred.k === "set" || pred.k === "tuple" ? pred : null;
  if (interval && pair && interval.lopen && interval.ropen && pair.items.length === 2) {
    return answersEqual(interval.lo, pair.items[0]!) && answersEqual(interval.hi, pair.items[1]!);
  }
  return false;
}

/** math-verify's sympy_expr_eq for the forms parsed here. */
export function answersEqual(gold: Node, pred: Node): boolean {
  const goldAssign = isAssignment(gold);
  const predEquation = isEq(pred);
  if (goldAssign && gold.k === "eq") gold = { k: "eq", lhs: gold.lhs, rhs: lastRhs(gold) };
  if (isAssignment(pred) && pred.k === "eq") pred = { k: "eq", lhs: pred.lhs, rhs: lastRhs(pred) };
  if (predEquation && !isEq(gold)) pred = lastRhs(pred);
  else if (goldAssign && !predEquation) gold = lastRhs(gold);

  if (sympyStr(gold) === sympyStr(pred)) return true;
  if (isEq(gold) && isEq(pred)) {
    const diff = (n: Extract<Node, { k: "eq" }>): Node => ({ k: "add", terms: [n.lhs, { k: "neg", x: n.rhs }] });
    return sameExpression(diff(gold), diff(pred)) || sameExpression(diff(gold), { k: "neg", x: diff(pred) });
  }
  if (gold.k === "rel" && pred.k === "rel") return sameRelation(gold, pred);
  if (isEq(gold) || isEq(pred) || gold.k === "rel" || pred.k === "rel") return false;
  if (["set", "interval", "tuple"].includes(gold.k) || ["set", "interval", "tuple"].includes(pred.k)) return sameSet(gold, pred);
  if (gold.k === "sym" || pred.k === "sym") return sameSymbol(gold, pred);
  if (isNumberAtom(gold) || isNumberAtom(pred)) {
    if (hasFloat(gold) || hasFloat(pred)) {
      const a = valueOf(gold);
      const b = valueOf(pred);
      if (a.im === 0 && b.im === 0 && Number.isFinite(a.re) && Number.isFinite(b.re)) {
        if (roundTo(a.re) === roundTo(b.re)) return true;
      }
      return false;
    }
  }
  return sameExpression(gold, pred);
}

function roundTo(x: number): number {
  return Math.round(x * 10 ** ROUND);
}

export interface LibraryResult {
  libraryReward: number;
  /** SymPy's str of the extracted prediction (its LaTeX when it does not parse), as the release reports it. */
  extractedAnswer: string | null;
}

/** The release's `_run_math_verify`: reward 1.0 when the prediction equals the gold answer. */
export function runMathVerify(expected: string, generated: string): LibraryResult {
  const gold = extractGold(expected);
  // math-verify raises on a gold answer it cannot read: the release scores 0.0 with no extracted answer
  if (!gold) return { libraryReward: 0, extractedAnswer: null };
  const pred = extractPrediction(generated);
  if (!pred) return { libraryReward: 0, extractedAnswer: null };
  // an answer that does not parse is compared as its text
  const goldStrs = [...(gold.node ? [sympyStr(gold.node)] : []), gold.latex].map((s) => s.trim());
  if (!pred.node) {
    const same = pred.latex.trim() !== "" && goldStrs.includes(pred.latex.trim());
    return { libraryReward: same ? 1 : 0, extractedAnswer: pred.latex };
  }
  let equal = false;
  try {
    equal = gold.node ? answersEqual(gold.node, pred.node) : false;
  } catch {
    equal = false;
  }
  const predStr = sympyStr(pred.node);
  const extracted = goldStrs.includes(predStr.trim()) || !goldStrs.includes(pred.latex.trim()) ? predStr : pred.latex;
  return { libraryReward: equal ? 1 : 0, extractedAnswer: extracted };
}
