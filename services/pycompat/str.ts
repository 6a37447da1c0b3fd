// Python str semantics that differ from JavaScript's: whitespace is
// str.isspace() (JS's trim() also strips U+FEFF but not U+001C-001F or
// U+0085), lengths count code points, and isalpha() is any Unicode letter.

const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const SPACE = new Set(PY_SPACE);

/** str.isspace() for one character. */
export function isPySpace(ch: string): boolean {
  return SPACE.has(ch);
}

/** str.strip(chars); without `chars`, Python's whitespace. */
export function pyStrip(s: string, chars?: string): string {
  const strip = chars === undefined ? SPACE : new Set(chars);
  const cps = [...s];
  let start = 0;
  let end = cps.length;
  while (start < end && strip.has(cps[start]!)) start++;
  while (end > start && strip.has(cps[end - 1]!)) end--;
  return cps.slice(start, end).join("");
}

/** str.split() with no argument: runs of Python whitespace separate, no empty strings. */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let word = "";
  for (const ch of s) {
    if (SPACE.has(ch)) {
      if (word) out.push(word);
      word = "";
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

/** len(s): code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** str.isalpha() (Unicode categories Lu, Ll, Lt, Lm, Lo). */
export function pyIsAlpha(s: string): boolean {
  return s.length > 0 && /^\p{L}+$/u.test(s);
}

/** s[:n] in code points. */
export function pyTruncate(s: string, n: number): string {
  return [...s].slice(0, n).join("");
}

/** repr() of a str: single quotes unless the text has ' and no ". */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (!isPrintable(ch)) out += cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, "0")}` : `\\U${cp.toString(16).padStart(8, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/** str.isprintable() for one character (not Other or Separator, space excepted). */
function isPrintable(ch: string): boolean {
  return ch === " " || !/^[\p{C}\p{Z}]$/u.test(ch);
}
