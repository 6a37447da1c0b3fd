// How deeply JSON text nests, read without parsing it, so that over-deep JSON
// is refused before any recursive code (converters, JSON.stringify) gets it.
// Only the ASCII structure characters matter, so UTF-8 bytes and UTF-16 text
// read alike.

/** Reads JSON text in pieces (chunks of a body) and says when it nests deeper than `maxDepth`. */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxDepth: number) {}

  /** Reads the next piece; true once the text has nested deeper than the limit. */
  feed(piece: Uint8Array | string): boolean {
    const text = typeof piece === "string";
    const n = piece.length;
    for (let i = 0; i < n; i++) {
      const c = text ? (piece as string).charCodeAt(i) : (piece as Uint8Array)[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true; // a backslash: the next character is escaped
        else if (c === 0x22) this.inString = false;
      } else if (c === 0x22) {
        this.inString = true;
      } else if (c === 0x5b || c === 0x7b) {
        if (++this.depth > this.maxDepth) return true;
      } else if (c === 0x5d || c === 0x7d) {
        this.depth--;
      }
    }
    return false;
  }
}

/** True when `text` (JSON or not) nests arrays and objects deeper than `maxDepth`. */
export function jsonTooDeep(text: string, maxDepth: number): boolean {
  return new JsonDepthScanner(maxDepth).feed(text);
}

/** The error text of over-deep JSON. */
export function tooDeepMessage(what: string, maxDepth: number): string {
  return `${what} nests JSON deeper than ${maxDepth} levels (limits.max_json_depth)`;
}
