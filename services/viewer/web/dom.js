// @ts-check
// A tiny element builder, and number formats. Text always goes in as text
// (never as HTML): only markdown.js makes HTML, and sanitizes it.
(function (/** @type {any} */ G) {
  "use strict";

  /**
   * h("div", { class: "x", "data-testid": "y", onclick: f }, child, "text", [more])
   * @param {string} tag
   * @param {Record<string, any> | null} [attrs]
   * @param {...any} children
   * @returns {HTMLElement}
   */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "html") el.innerHTML = v; // only sanitized HTML from markdown.js
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    const add = (c) => {
      if (c === undefined || c === null || c === false) return;
      if (Array.isArray(c)) c.forEach(add);
      else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    };
    children.forEach(add);
    return el;
  }

  const fmt = {
    /** A reward: up to 3 decimals, no trailing zeros. */
    reward: (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : String(Math.round(v * 1000) / 1000)),
    int: (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : Math.round(v).toLocaleString("en-US")),
    pct: (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v.toFixed(1)}%`),
    ms: (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`),
    num: (v, d = 3) => (v === null || v === undefined || Number.isNaN(v) ? "–" : String(Math.round(v * 10 ** d) / 10 ** d)),
    signed: (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(Math.round(v * 1000) / 1000)}`),
  };

  /** The color class of a reward. */
  const rewardClass = (r) => (r.failed ? "r-failed" : r.reward === null ? "r-none" : r.reward >= G.engine.PASS ? "r-pass" : r.reward <= 0 ? "r-fail" : "r-part");

  /** A task's label: its index, or p1, p2... for tasks known by their prompt. */
  const taskLabel = (t) => (t < 0 ? `p${-t}` : String(t));

  G.h = h;
  G.fmt = fmt;
  G.rewardClass = rewardClass;
  G.taskLabel = taskLabel;
})((globalThis.GymView = globalThis.GymView || {}));
