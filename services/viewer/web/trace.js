// @ts-check
// A rollout's trace, when its line has one (`_ng_trace_id`: the mesh traced
// it): a link to a trace UI (`gym view --trace-url`, with {trace_id}) and,
// when spans were exported to a file (`--traces`, or `<stem>_traces.jsonl`),
// a small waterfall of them: one row per span, indented under its parent,
// its bar placed on the trace's time line.
(function (/** @type {any} */ G) {
  "use strict";
  const { h, fmt } = G;
  const KINDS = { 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer" };

  /** The trace strip of one line, or null when the line has no trace id. */
  function view(line, meta, T) {
    const id = line && typeof line._ng_trace_id === "string" ? line._ng_trace_id : "";
    if (!/^[0-9a-f]{32}$/.test(id)) return null;
    const link = meta.traceUrl
      ? h("a", { href: meta.traceUrl.split("{trace_id}").join(id), target: "_blank", rel: "noopener noreferrer", "data-testid": "trace-link" }, "open in the trace UI")
      : null;
    const box = meta.traces && T.trace ? h("div", { class: "waterfall", "data-testid": "waterfall" }, h("div", { class: "muted small" }, "reading the spans…")) : null;
    if (box) {
      T.trace(id).then(
        (spans) => draw(box, spans),
        (err) => box.replaceChildren(h("div", { class: "failure" }, `cannot read the spans: ${err.message}`)),
      );
    }
    return h("div", { class: "trace", "data-testid": "trace" }, h("div", { class: "trace-head" }, h("span", { class: "muted" }, "trace "), h("code", { "data-testid": "trace-id" }, id), " ", link), box);
  }

  function draw(box, spans) {
    if (!spans.length) {
      box.replaceChildren(h("div", { class: "muted small", "data-testid": "waterfall-empty" }, "no spans of this trace in the traces file (yet)"));
      return;
    }
    const ids = new Set(spans.map((s) => s.spanId));
    const children = new Map();
    for (const s of spans) {
      const parent = ids.has(s.parentSpanId) ? s.parentSpanId : "";
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(s);
    }
    const rows = [];
    const walk = (parent, depth) => {
      for (const s of children.get(parent) || []) {
        rows.push([s, depth]);
        if (depth < 30) walk(s.spanId, depth + 1);
      }
    };
    walk("", 0);
    const end = Math.max(0.001, ...spans.map((s) => s.startMs + s.durationMs));
    const pct = (ms) => `${((ms / end) * 100).toFixed(2)}%`;
    box.replaceChildren(
      ...rows.map(([s, depth]) =>
        h(
          "div",
          { class: `span-row${s.status === 2 ? " bad" : ""}`, "data-testid": "span-row", "data-name": s.name, title: tooltip(s) },
          h("span", { class: "span-name", style: `padding-left:${depth * 12}px` }, s.name),
          h("span", { class: "span-track" }, h("span", { class: `span-bar kind-${KINDS[s.kind] || "internal"}`, style: `left:${pct(s.startMs)};width:${pct(Math.max(s.durationMs, end / 200))}` })),
          h("span", { class: "span-ms muted small" }, fmt.ms(s.durationMs)),
        ),
      ),
    );
  }

  function tooltip(s) {
    const attrs = Object.entries(s.attributes || {}).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
    const status = s.status === 2 ? [`ERROR ${s.statusMessage}`] : [];
    return [`${s.name} (${KINDS[s.kind] || "internal"}${s.service ? `, ${s.service}` : ""}) at ${fmt.ms(s.startMs)} for ${fmt.ms(s.durationMs)}`, ...status, ...attrs].join("\n");
  }

  G.trace = { view };
})((globalThis.GymView = globalThis.GymView || {}));
