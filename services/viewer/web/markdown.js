// @ts-check
// Model text as markdown (marked), sanitized (DOMPurify: a rollout may hold
// any HTML), with TeX made readable: $..$, $$..$$, \(..\), \[..\] and a bare
// \boxed{..} are cut out before markdown sees them (it would eat their
// backslashes and underscores) and drawn with Unicode symbols, <sup>/<sub>
// and stacked fractions. Not a typesetter: enough to read an answer.
(function (/** @type {any} */ G) {
  "use strict";

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] || c);

  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ", eta: "η", theta: "θ", vartheta: "ϑ",
    iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π", varpi: "ϖ", rho: "ρ", sigma: "σ", tau: "τ", upsilon: "υ",
    phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ", Pi: "Π",
    Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω", cdot: "·", times: "×", div: "÷", pm: "±", mp: "∓", le: "≤", leq: "≤", ge: "≥",
    geq: "≥", ne: "≠", neq: "≠", approx: "≈", equiv: "≡", sim: "∼", simeq: "≃", cong: "≅", propto: "∝", infty: "∞", sum: "∑",
    prod: "∏", int: "∫", oint: "∮", partial: "∂", nabla: "∇", to: "→", rightarrow: "→", leftarrow: "←", Rightarrow: "⇒",
    Leftarrow: "⇐", iff: "⇔", Leftrightarrow: "⇔", implies: "⇒", mapsto: "↦", in: "∈", notin: "∉", ni: "∋", subset: "⊂",
    subseteq: "⊆", supset: "⊃", supseteq: "⊇", cup: "∪", cap: "∩", setminus: "∖", emptyset: "∅", varnothing: "∅", forall: "∀",
    exists: "∃", neg: "¬", lnot: "¬", wedge: "∧", land: "∧", vee: "∨", lor: "∨", ldots: "…", dots: "…", cdots: "⋯", vdots: "⋮",
    ddots: "⋱", circ: "∘", bullet: "•", angle: "∠", degree: "°", perp: "⊥", parallel: "∥", mid: "∣", lfloor: "⌊", rfloor: "⌋",
    lceil: "⌈", rceil: "⌉", langle: "⟨", rangle: "⟩", prime: "′", star: "⋆", ast: "∗", oplus: "⊕", otimes: "⊗", hbar: "ℏ", ell: "ℓ",
    Re: "ℜ", Im: "ℑ", aleph: "ℵ", therefore: "∴", because: "∵", quad: "\u2003", qquad: "\u2003\u2003", ",": "\u2009", ":": "\u2005",
    ";": "\u2005", "!": "", " ": " ", "{": "{", "}": "}", "%": "%", $: "$", "&": "&amp;", "#": "#", _: "_", "\\": "<br>",
    lvert: "|", rvert: "|", vert: "|", lVert: "‖", rVert: "‖", Vert: "‖", sin: "sin", cos: "cos", tan: "tan", log: "log", ln: "ln",
    exp: "exp", lim: "lim", max: "max", min: "min", det: "det", gcd: "gcd", mod: "mod", bmod: "mod", pmod: "mod", sec: "sec",
    csc: "csc", cot: "cot", arcsin: "arcsin", arccos: "arccos", arctan: "arctan", sinh: "sinh", cosh: "cosh", tanh: "tanh",
  };
  const BLACKBOARD = { R: "ℝ", N: "ℕ", Z: "ℤ", Q: "ℚ", C: "ℂ", P: "ℙ" };
  /** Commands whose argument is shown as it is (text, fonts). */
  const PASS_THROUGH = new Set(["text", "textrm", "textit", "mathrm", "mathit", "mathsf", "mathtt", "operatorname", "textnormal", "mbox", "hbox"]);
  /** Commands shown as nothing (sizes, spacing hints). */
  const IGNORED = new Set(["left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle", "textstyle", "limits", "nolimits", "middle"]);

  /** TeX -> readable HTML (escaped). */
  function tex(src) {
    let i = 0;
    const atEnd = () => i >= src.length;
    const skipSpaces = () => {
      while (!atEnd() && /\s/.test(src[i])) i++;
    };
    /** Up to the matching `end` (or the end of the text). */
    function seq(end) {
      let out = "";
      while (!atEnd()) {
        if (src[i] === end) {
          i++;
          return out;
        }
        out += atom();
      }
      return out;
    }
    /** One argument: a {group}, a command, or one character. */
    function arg() {
      skipSpaces();
      if (atEnd()) return "";
      if (src[i] === "{") {
        i++;
        return seq("}");
      }
      if (src[i] === "\\") return command();
      return esc(src[i++]);
    }
    function atom() {
      const c = src[i];
      if (c === "{") {
        i++;
        return seq("}");
      }
      if (c === "}") {
        i++;
        return "";
      }
      if (c === "^") {
        i++;
        return `<sup>${arg()}</sup>`;
      }
      if (c === "_") {
        i++;
        return `<sub>${arg()}</sub>`;
      }
      if (c === "\\") return command();
      if (c === "~") {
        i++;
        return "\u00a0";
      }
      i++;
      return esc(c);
    }
    function command() {
      i++; // the backslash
      const m = /^[a-zA-Z]+/.exec(src.slice(i));
      const name = m ? m[0] : src[i] || "";
      i += name.length;
      if (name === "frac" || name === "dfrac" || name === "tfrac" || name === "cfrac") {
        const num = arg();
        const den = arg();
        return `<span class="frac"><span class="num">${num}</span><span class="den">${den}</span></span>`;
      }
      if (name === "binom" || name === "dbinom" || name === "tbinom") {
        const n = arg();
        const k = arg();
        return `(<span class="frac binom"><span class="num">${n}</span><span class="den">${k}</span></span>)`;
      }
      if (name === "sqrt") {
        let index = "";
        if (src[i] === "[") {
          const close = src.indexOf("]", i);
          index = close > i ? `<sup class="root">${tex(src.slice(i + 1, close))}</sup>` : "";
          i = close > i ? close + 1 : i;
        }
        return `${index}√<span class="radicand">${arg()}</span>`;
      }
      if (name === "boxed" || name === "fbox") return `<span class="boxed">${arg()}</span>`;
      if (name === "mathbb") {
        const a = arg();
        return BLACKBOARD[a] || a;
      }
      if (name === "mathbf" || name === "textbf" || name === "bm" || name === "boldsymbol") return `<b>${arg()}</b>`;
      if (name === "overline" || name === "bar") return `<span class="overline">${arg()}</span>`;
      if (name === "hat" || name === "widehat") return `${arg()}\u0302`;
      if (name === "vec") return `${arg()}\u20d7`;
      if (name === "tilde") return `${arg()}\u0303`;
      if (PASS_THROUGH.has(name)) return `<span class="tex-text">${arg()}</span>`;
      if (IGNORED.has(name)) {
        if (src[i] === ".") i++; // \left. is no delimiter
        return "";
      }
      if (name === "begin" || name === "end") {
        arg(); // the environment's name; its & and \\ read as spacing and breaks
        return "";
      }
      if (name in SYMBOLS) return SYMBOLS[name];
      return esc(`\\${name}`);
    }
    return seq("");
  }

  // Math spans, longest delimiters first; $..$ wants no space inside its ends and no digit after (not "$5 and $10").
  const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$(?=[^\s$])((?:\\.|[^$\\\n])+?)(?<=\S)\$(?!\d)|\\boxed\{/g;
  // Code is left alone: fenced blocks and inline code spans.
  const CODE = /(^|\n)(```|~~~)[^\n]*\n[\s\S]*?(\n\2[^\n]*(?=\n|$)|$)|`+[^`\n]*`+/g;

  /** A bare \boxed{...} from `start` (at the backslash): its end after the matching brace. */
  function boxedEnd(text, start) {
    let depth = 0;
    for (let j = start + "\\boxed".length; j < text.length; j++) {
      if (text[j] === "\\") j++;
      else if (text[j] === "{") depth++;
      else if (text[j] === "}" && --depth === 0) return j + 1;
    }
    return -1;
  }

  /** Cuts the math out of markdown text: placeholders in the text, and their HTML. */
  function extractMath(text) {
    /** @type {string[]} */
    const found = [];
    const put = (html) => `\u2063MATH${found.push(html) - 1}\u2063`;
    const outsideCode = (part) => {
      let out = "";
      let last = 0;
      MATH.lastIndex = 0;
      for (let m = MATH.exec(part); m; m = MATH.exec(part)) {
        out += part.slice(last, m.index);
        if (m[0] === "\\boxed{") {
          const end = boxedEnd(part, m.index);
          if (end < 0) {
            out += m[0];
            last = MATH.lastIndex;
            continue;
          }
          out += put(`<span class="math" title="${esc(part.slice(m.index, end))}">${tex(part.slice(m.index, end))}</span>`);
          last = MATH.lastIndex = end;
          continue;
        }
        const display = m[1] !== undefined || m[2] !== undefined;
        const body = m[1] ?? m[2] ?? m[3] ?? m[4] ?? "";
        out += put(display ? `<span class="math display" title="${esc(body.trim())}">${tex(body.trim())}</span>` : `<span class="math" title="${esc(body)}">${tex(body)}</span>`);
        last = MATH.lastIndex;
      }
      return out + part.slice(last);
    };
    let out = "";
    let last = 0;
    CODE.lastIndex = 0;
    for (let m = CODE.exec(text); m; m = CODE.exec(text)) {
      out += outsideCode(text.slice(last, m.index)) + m[0];
      last = CODE.lastIndex;
      if (m[0].length === 0) CODE.lastIndex++;
    }
    return { text: out + outsideCode(text.slice(last)), math: found };
  }

  let parser = null;
  /** marked, set to show HTML in the text as text: a transcript shows what the model wrote. */
  function markdownParser() {
    const g = /** @type {any} */ (globalThis);
    if (!parser && g.marked) parser = new g.marked.Marked({ gfm: true, breaks: false, async: false, renderer: { html: (t) => esc(t.text) } });
    return parser;
  }

  /** Markdown text -> sanitized HTML (escaped text when marked or DOMPurify did not load). */
  function render(text) {
    const g = /** @type {any} */ (globalThis);
    const { text: md, math } = extractMath(String(text));
    const marked = markdownParser();
    if (!marked || !g.DOMPurify) return `<pre class="plain">${esc(text)}</pre>`;
    const html = marked.parse(md);
    const withMath = html.replace(/\u2063MATH(\d+)\u2063/g, (_, n) => math[Number(n)] ?? "");
    return g.DOMPurify.sanitize(withMath, { ADD_ATTR: ["title"] });
  }

  G.markdown = { render, tex, extractMath, esc };
})((globalThis.GymView = globalThis.GymView || {}));
