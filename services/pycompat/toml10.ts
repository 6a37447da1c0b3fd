// What tomllib (TOML 1.0.0) refuses that smol-toml (TOML 1.1.0) accepts:
// newlines, comments and a trailing comma inside an inline table, the \e and
// \xHH escapes, a time without seconds, and a day the month does not have
// (smol-toml rolls 2024-02-30 over to March 1st), plus a leading BOM. A
// small scanner finds them; everything else is left to smol-toml.

/** A TOML 1.0 error: the message says what tomllib objects to. */
export class Toml10Error extends Error {}

type Frame = "{" | "[";

const BASIC_ESCAPES = new Set(["b", "t", "n", "f", "r", '"', "\\"]);

/** Throws Toml10Error where tomllib would raise TOMLDecodeError and smol-toml would not. */
export function checkToml10(text: string): void {
  if (text.startsWith("\ufeff")) throw new Toml10Error("Invalid statement (a byte order mark)");
  const stack: Frame[] = [];
  let i = 0;
  // In a value position (after "=", or inside an array) a date/time may start.
  let expectValue = false;
  const inInlineTable = () => stack[stack.length - 1] === "{";
  while (i < text.length) {
    const c = text[i]!;
    if (c === "#") {
      if (inInlineTable()) throw new Toml10Error("a comment inside an inline table");
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (inInlineTable()) throw new Toml10Error("a newline inside an inline table");
      if (stack.length === 0) expectValue = false;
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipString(text, i);
      expectValue = false;
      continue;
    }
    if (c === "=") expectValue = true;
    else if (c === "[" && expectValue) stack.push("[");
    else if (c === "{" && expectValue) {
      stack.push("{");
      expectValue = false;
    } else if ((c === "]" || c === "}") && stack.length) {
      stack.pop();
      expectValue = false;
    } else if (c === ",") {
      if (inInlineTable() && /^[ \t]*\}/.test(text.slice(i + 1))) throw new Toml10Error("a trailing comma in an inline table");
      expectValue = stack[stack.length - 1] === "[";
    } else if (expectValue && /[0-9]/.test(c)) {
      i = checkDateTime(text, i);
      expectValue = stack[stack.length - 1] === "[";
      continue;
    } else if (c !== " " && c !== "\t" && c !== "\r") expectValue = false;
    i++;
  }
}

/** Skips a string starting at `i`, checking basic-string escapes; returns the index after it. */
function skipString(text: string, i: number): number {
  const q = text[i]!;
  const multi = text.startsWith(q.repeat(3), i);
  let j = i + (multi ? 3 : 1);
  while (j < text.length) {
    const c = text[j]!;
    if (q === '"' && c === "\\") {
      const e = text[j + 1] ?? "";
      if (BASIC_ESCAPES.has(e)) j += 2;
      else if (e === "u" || e === "U") j += 2;
      else if (multi && /^\\[ \t]*\r?\n/.test(text.slice(j))) j += 1;
      else throw new Toml10Error(`Unescaped '\\' in a string (\\${e} is TOML 1.1)`);
      continue;
    }
    if (multi ? text.startsWith(q.repeat(3), j) : c === q) {
      // A multi-line string may end with up to two more quotes.
      if (multi) {
        j += 3;
        while (text[j] === q && j < text.length) j++;
        return j;
      }
      return j + 1;
    }
    if (!multi && c === "\n") return j; // unterminated: smol-toml reports it
    j++;
  }
  return j;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME = /^(\d{2}):(\d{2})(:\d{2})?/;

/** Checks a date/time value starting at `i` (TOML 1.0: seconds required, real days); returns the index after it. */
function checkDateTime(text: string, i: number): number {
  let rest = text.slice(i);
  const date = DATE.exec(rest);
  let end = i;
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    if (year < 1 || days === undefined || day < 1 || day > days) throw new Toml10Error("Invalid date or datetime");
    end += date[0].length;
    rest = text.slice(end);
    if (!/^[Tt ]\d{2}:/.test(rest)) return end;
    end += 1;
    rest = text.slice(end);
  }
  const time = TIME.exec(rest);
  if (time) {
    if (!time[3]) throw new Toml10Error("a time without seconds (TOML 1.1)");
    return end + time[0].length;
  }
  // A number: skip it.
  while (end < text.length && /[0-9A-Za-z_.+-]/.test(text[end]!)) end++;
  return end;
}
