// Splits model text into reasoning (inside `<think>...</think>`) and visible
// text, as it streams: a tag cut across two deltas is still found, and text
// that might be the start of a tag is held back until it is known not to be.
// Only explicit tags count, as in NeMo Gym's converter; a server-side
// reasoning parser (vLLM's `reasoning_content`) is the robust alternative.

const OPEN = "<think>";
const CLOSE = "</think>";

export interface ThinkPiece {
  /** "open": a reasoning block starts (its text follows as "reasoning" pieces). */
  kind: "open" | "reasoning" | "text";
  text: string;
}

export class ThinkSplitter {
  private inside = false;
  private held = "";

  constructor(private readonly enabled: boolean) {}

  /** The pieces of `delta` that are certain now. */
  push(delta: string): ThinkPiece[] {
    if (!this.enabled) return delta ? [{ kind: "text", text: delta }] : [];
    let rest = this.held + delta;
    this.held = "";
    const out: ThinkPiece[] = [];
    for (;;) {
      const tag = this.inside ? CLOSE : OPEN;
      const at = rest.indexOf(tag);
      if (at >= 0) {
        emit(out, this.inside ? "reasoning" : "text", rest.slice(0, at));
        if (!this.inside) out.push({ kind: "open", text: "" });
        rest = rest.slice(at + tag.length);
        this.inside = !this.inside;
        continue;
      }
      const keep = partialTagLength(rest, tag);
      emit(out, this.inside ? "reasoning" : "text", rest.slice(0, rest.length - keep));
      this.held = rest.slice(rest.length - keep);
      return out;
    }
  }

  /** What is left at the end (a held-back partial tag is ordinary text after all). */
  end(): ThinkPiece[] {
    const out: ThinkPiece[] = [];
    emit(out, this.inside ? "reasoning" : "text", this.held);
    this.held = "";
    return out;
  }
}

/** Splits a whole text at once: reasoning blocks and the visible text. */
export function splitThink(text: string, enabled: boolean): { reasoning: string[]; text: string } {
  const s = new ThinkSplitter(enabled);
  const reasoning: string[] = [];
  let visible = "";
  for (const p of [...s.push(text), ...s.end()]) {
    if (p.kind === "text") visible += p.text;
    else if (p.kind === "open") reasoning.push("");
    else reasoning[reasoning.length - 1] += p.text;
  }
  return { reasoning, text: visible };
}

/** Wraps reasoning texts back into tags, for a chat backend's history. */
export function wrapThink(texts: readonly string[]): string {
  return texts.map((t) => `${OPEN}${t}${CLOSE}`).join("");
}

function emit(out: ThinkPiece[], kind: "reasoning" | "text", text: string): void {
  if (text !== "") out.push({ kind, text });
}

/** How many trailing characters of `text` could begin `tag`. */
function partialTagLength(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(text.length - n))) return n;
  }
  return 0;
}
