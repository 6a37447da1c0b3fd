// Answer extraction for multiple-choice questions, as NeMo Gym's mcqa
// verifier does it. Each function takes the stripped answer text and the
// option letters the row allows, and returns the predicted letter or null.
import { PythonRegex, PythonRegexError, pythonReEscape } from "../../pycompat/regex.js";
import { pyIsAlpha, pyLen, pySplit, pyStrip } from "../../pycompat/str.js";

/** One option as a row gives it: `{"A": "text"}` (a null text means the option is absent). */
export type OptionEntry = Record<string, string | null>;

export const GRADING_MODES = ["strict_single_letter_boxed", "lenient_boxed", "lenient_answer_colon", "lenient_answer_colon_md"] as const;
export type GradingMode = (typeof GRADING_MODES)[number];

// NeMo Gym's fixed patterns, translated once (they are Python regexes).
const CHOICE_LETTER = new PythonRegex("(?<![A-Za-z])([A-Za-z])(?![A-Za-z])");
// The box holds just a letter, e.g. "E", "[C]", "(B)".
const BOXED_LETTER_ONLY = new PythonRegex("^[^A-Za-z]*([A-Z])[^A-Za-z]*$");
// The box starts with a letter and a label delimiter: "E: ...", "C) ...".
const BOXED_LETTER_LABEL = new PythonRegex("^\\s*([A-Z])\\s*[:).\\-]");
const ANSWER_COLON = new PythonRegex("(?i)answer\\s*:\\s*(.+)");
const ANSWER_COLON_PAYLOAD = new PythonRegex("(?im)[*_]{0,2}Answer[*_]{0,2}\\s*:[*_\\s]{0,2}(.+)");
const LATEX_TEXT_WRAP = new PythonRegex("\\\\text\\{\\s*(.*?)\\s*\\}", { dotAll: true });
const LEADING_CHOICE_LETTER = new PythonRegex("^([a-zA-Z])(?![a-zA-Z0-9])");
const LAST_STANDALONE_CHOICE_LETTER = new PythonRegex("\\b[A-Z]\\b(?!.*\\b[A-Z]\\b)", { dotAll: true });
const CHOICE_LIST_SEPARATOR = new PythonRegex("(?:\\s*[/|&,;]\\s*|\\s+(?:or|and)\\s+|\\s+)", { ignoreCase: true });

/** Uppercase letters of the options whose key is one letter and whose text is not null. */
export function allowedLetters(options: OptionEntry[] | null): Set<string> {
  const letters = new Set<string>();
  for (const entry of options ?? []) {
    for (const [k, v] of Object.entries(entry)) {
      if (pyLen(k) === 1 && pyIsAlpha(k) && v !== null) letters.add(k.toUpperCase());
    }
  }
  return letters;
}

/** Lowercase and collapse whitespace: `" ".join(s.lower().split())`. */
export function normalizeForMatch(s: string): string {
  return pySplit(s.toLowerCase()).join(" ");
}

/** Everything inside the LAST \boxed{...}, counting nested braces; null without one or when unclosed. */
export function boxedInner(text: string): string | null {
  const marker = "\\boxed{";
  const start = text.lastIndexOf(marker);
  if (start === -1) return null;
  let depth = 1;
  for (let i = start + marker.length; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return text.slice(start + marker.length, i);
  }
  return null;
}

/** Removes successive \text{...} wrappers around the whole string. */
export function stripLatexWrappers(s: string): string {
  for (;;) {
    const m = LATEX_TEXT_WRAP.fullmatch(s);
    if (!m) return s;
    s = m[1] ?? "";
  }
}

/** strict_single_letter_boxed: the letter in the last box (bare, \text{}-wrapped, or labelled "E: ..."). */
export function strictBoxedLetter(text: string, allowed: Set<string>): string | null {
  const inner = boxedInner(text);
  if (inner === null) return null;
  const content = stripLatexWrappers(pyStrip(inner));
  const m = BOXED_LETTER_ONLY.match(content) ?? BOXED_LETTER_LABEL.match(content);
  const letter = m ? m[1]!.toUpperCase() : null;
  return letter !== null && allowed.has(letter) ? letter : null;
}

/** lenient_boxed's fallback: the one option whose normalized text is contained in the last box. */
export function boxedOptionText(text: string, options: OptionEntry[] | null, allowed: Set<string>): string | null {
  const inner = boxedInner(text);
  if (inner === null) return null;
  const stripped = pyStrip(inner);
  const candidates = [stripped, stripLatexWrappers(stripped)].map(normalizeForMatch);
  const matched = new Set<string>();
  for (const entry of options ?? []) {
    for (const [k, v] of Object.entries(entry)) {
      if (v === null || pyLen(k) !== 1 || !allowed.has(k.toUpperCase())) continue;
      const option = normalizeForMatch(v);
      if (option && candidates.some((c) => c.includes(option))) matched.add(k.toUpperCase());
    }
  }
  return matched.size === 1 ? [...matched][0]! : null;
}

/** lenient_answer_colon: the first "Answer: X" line, as a letter or as an option's exact text. */
export function answerColonLetter(text: string, options: OptionEntry[] | null, allowed: Set<string>): string | null {
  const m = ANSWER_COLON.search(text);
  if (!m) return null;
  const candidate = pyStrip(stripLatexWrappers(m[1]!));
  if (pyLen(candidate) === 1 && pyIsAlpha(candidate) && allowed.has(candidate.toUpperCase())) return candidate.toUpperCase();
  const wanted = normalizeForMatch(candidate);
  for (const entry of options ?? []) {
    for (const [k, v] of Object.entries(entry)) {
      const letter = k.toUpperCase();
      if (allowed.has(letter) && v !== null && normalizeForMatch(v) === wanted) return letter;
    }
  }
  return null;
}

/** NFKC, localized letters (Arabic, Bengali, full-width) to A-D, stripped. */
export function normalizeExtractedAnswer(text: string): string {
  const replaced = text
    .normalize("NFKC")
    .replaceAll("أ", " A")
    .replaceAll("ب", " B")
    .replaceAll("ج", " C")
    .replaceAll("د", " D")
    .replaceAll("অ", " A")
    .replaceAll("ব", " B")
    .replaceAll("ড", " C")
    .replaceAll("ঢ", " D")
    .replaceAll("Ａ", " A")
    .replaceAll("Ｂ", " B")
    .replaceAll("Ｃ", " C")
    .replaceAll("Ｄ", " D");
  return pyStrip(replaced);
}

/** True when two different allowed letters stand side by side as a list ("A or B", "A/B", "A, B"). */
function ambiguousChoiceList(text: string, allowed: Set<string>): boolean {
  const found = [...CHOICE_LETTER.finditer(text)]
    .map((m) => ({ letter: m[1]!.toUpperCase(), start: m.index, end: m.index + m[1]!.length }))
    .filter((m) => allowed.has(m.letter));
  for (let i = 1; i < found.length; i++) {
    const left = found[i - 1]!;
    const right = found[i]!;
    if (left.letter !== right.letter && CHOICE_LIST_SEPARATOR.fullmatch(text.slice(left.end, right.start))) return true;
  }
  return false;
}

/** One allowed letter from an answer payload ("B", "**B**", "B because ...", "... is B."). */
function choiceLetter(payload: string, allowed: Set<string>): string | null {
  const candidate = pyStrip(pyStrip(normalizeExtractedAnswer(payload)), "*_` \t\n\r.,;:");
  if (ambiguousChoiceList(candidate, allowed)) return null;
  let letter: string | null;
  if (pyLen(candidate) === 1) letter = candidate;
  else letter = LEADING_CHOICE_LETTER.match(candidate)?.[1] ?? LAST_STANDALONE_CHOICE_LETTER.search(candidate)?.[0] ?? null;
  if (!letter) return null;
  const up = letter.toUpperCase();
  return allowed.has(up) ? up : null;
}

/** Payloads after "Answer:" (markdown-aware) and after the row's answer prefix, in text order. */
function answerPayloads(text: string, answerPrefix: string | null): string[] {
  const normalized = text.normalize("NFKC");
  const found: { start: number; payload: string }[] = [];
  for (const m of ANSWER_COLON_PAYLOAD.finditer(normalized)) found.push({ start: m.index, payload: m[1]! });
  if (answerPrefix) {
    // re.compile(re.escape(prefix) + r"\s*", re.IGNORECASE): Python's case folding, not JavaScript's.
    const prefix = new PythonRegex(`${pythonReEscape(answerPrefix.normalize("NFKC"))}\\s*`, { ignoreCase: true });
    for (const m of prefix.finditer(normalized)) {
      const end = m.index + m[0].length;
      const lineEnd = normalized.indexOf("\n", end);
      found.push({ start: m.index, payload: normalized.slice(end, lineEnd < 0 ? normalized.length : lineEnd) });
    }
  }
  return found.sort((a, b) => a.start - b.start).map((f) => f.payload);
}

/** lenient_answer_colon_md: the last "Answer:" payload (or answer-prefix line) that names an allowed letter. */
export function answerColonMarkdownLetter(text: string, allowed: Set<string>, answerPrefix: string | null): string | null {
  const payloads = answerPayloads(text, answerPrefix);
  for (let i = payloads.length - 1; i >= 0; i--) {
    const letter = choiceLetter(payloads[i]!, allowed);
    if (letter !== null) return letter;
  }
  return answerPrefix ? strictBoxedLetter(text, allowed) : null;
}

/**
 * The row's own regex(es) from template_metadata.output_regex, Python syntax,
 * matched case-insensitively; the LAST match wins. A captured single letter is
 * trusted even when it is not among the options; otherwise the capture must
 * equal an option's text. A pattern Python would reject counts as no match.
 */
export function customRegexLetter(text: string, patterns: string | unknown[], options: OptionEntry[] | null, allowed: Set<string>): string | null {
  for (const [i, pattern] of (typeof patterns === "string" ? [patterns] : patterns).entries()) {
    // Checked when reached: NeMo Gym stops at the first pattern that answers.
    if (typeof pattern !== "string") throw new OutputRegexShapeError(`output_regex[${i}] must be a regex string, got ${JSON.stringify(pattern)}`);
    const letter = oneCustomRegex(text, pattern, options, allowed);
    if (letter !== null) return letter;
  }
  return null;
}

/** An output_regex NeMo Gym cannot use either (several groups, not a string): the row is malformed. */
export class OutputRegexShapeError extends Error {}

function oneCustomRegex(text: string, pattern: string, options: OptionEntry[] | null, allowed: Set<string>): string | null {
  let regex: PythonRegex;
  try {
    regex = new PythonRegex(pattern, { ignoreCase: true });
  } catch (err) {
    if (err instanceof PythonRegexError) return null;
    throw err;
  }
  if (regex.groups > 1) {
    throw new OutputRegexShapeError(`output_regex ${JSON.stringify(pattern)} has ${regex.groups} groups; it must capture the answer in at most one`);
  }
  const matches = regex.findall(text) as string[];
  if (matches.length === 0) return null;
  const captured = normalizeExtractedAnswer(pyStrip(matches[matches.length - 1]!)).toUpperCase();
  if (pyLen(captured) === 1 && pyIsAlpha(captured)) return captured;
  const wanted = normalizeForMatch(captured);
  for (const entry of options ?? []) {
    for (const [k, v] of Object.entries(entry)) {
      if (v !== null && allowed.has(k.toUpperCase()) && normalizeForMatch(v) === wanted) return k.toUpperCase();
    }
  }
  return null;
}
