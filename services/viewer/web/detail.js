// @ts-check
// One rollout, read whole from its line: the transcript (every Responses
// item type; a function_call with its function_call_output, found by
// call_id; reasoning folded; the model's turns with their token counts and
// finish where the line has them), the verifier's panel (reward and every
// field; a failure's code and message instead of a reward), and the raw JSON.
(function (/** @type {any} */ G) {
  "use strict";
  const { h, fmt } = G;

  const isObj = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
  /** Fields that are the rollout's bookkeeping, not the verifier's. */
  const BOOKKEEPING = (k) => k.startsWith("_ng_") || k === "agent_ref";
  const NOT_VERIFIER = new Set(["responses_create_params", "response", "reward", "error", "agent_ref"]);
  /** Items a tool or the environment adds (not the model). */
  const NOT_MODEL = new Set(["function_call_output", "computer_call_output", "custom_tool_call_output", "mcp_call_output"]);

  /** Text that is JSON, pretty; other text as it is. */
  function pretty(text) {
    if (typeof text !== "string") return JSON.stringify(text, null, 2);
    try {
      const v = JSON.parse(text);
      if (typeof v === "object" && v !== null) return JSON.stringify(v, null, 2);
    } catch {
      // not JSON
    }
    return text;
  }

  /** Model text: markdown (or raw when asked). */
  function textBlock(text, raw) {
    if (raw) return h("pre", { class: "text raw-text", "data-testid": "raw-text" }, text);
    return h("div", { class: "text md", "data-testid": "markdown", html: G.markdown.render(text) });
  }

  function jsonBlock(value, cls = "") {
    return h("pre", { class: `json ${cls}` }, pretty(value));
  }

  /** The text of a message's content (a string, or parts). */
  function contentParts(content, raw) {
    if (typeof content === "string") return [textBlock(content, raw)];
    if (!Array.isArray(content)) return [jsonBlock(content)];
    return content.map((p) => {
      if (!isObj(p)) return jsonBlock(p);
      if (typeof p.text === "string" && /^(input_text|output_text|text|summary_text|reasoning_text)$/.test(String(p.type ?? "text"))) return textBlock(p.text, raw);
      if (p.type === "refusal") return h("div", { class: "refusal" }, `refusal: ${p.refusal ?? ""}`);
      if (p.type === "input_image") return h("div", { class: "muted" }, `[image${p.image_url && String(p.image_url).startsWith("http") ? `: ${p.image_url}` : ""}]`);
      return h("details", { class: "part" }, h("summary", null, String(p.type ?? "part")), jsonBlock(p));
    });
  }

  function messageItem(item, raw) {
    const role = String(item.role ?? "assistant");
    return h(
      "div",
      { class: `item msg role-${role}`, "data-testid": "item-message", "data-role": role },
      h("div", { class: "item-head" }, h("span", { class: "role" }, role), item.status && item.status !== "completed" ? h("span", { class: "badge warn" }, item.status) : null),
      contentParts(item.content, raw),
    );
  }

  function callItem(item, output, raw) {
    let args = item.arguments;
    return h(
      "div",
      { class: "item call", "data-testid": "item-function_call", "data-call-id": item.call_id ?? "" },
      h("div", { class: "item-head" }, h("span", { class: "tool-name" }, `${item.name ?? "?"}(…)`), h("span", { class: "muted small" }, item.call_id ?? ""), item.status && item.status !== "completed" ? h("span", { class: "badge warn" }, item.status) : null),
      h("pre", { class: "json args" }, pretty(args ?? "")),
      output
        ? h("div", { class: "call-output", "data-testid": "item-function_call_output" }, h("div", { class: "item-head" }, h("span", { class: "role" }, "→ output")), outputBody(output.output, raw))
        : h("div", { class: "muted small", "data-testid": "no-output" }, "no function_call_output with this call_id"),
    );
  }

  function outputBody(out, raw) {
    if (typeof out === "string") {
      const p = pretty(out);
      return p !== out ? h("pre", { class: "json" }, p) : textBlock(out, raw);
    }
    if (Array.isArray(out)) return h("div", null, contentParts(out, raw));
    return jsonBlock(out);
  }

  function reasoningItem(item, raw) {
    const texts = [...(Array.isArray(item.summary) ? item.summary : []), ...(Array.isArray(item.content) ? item.content : [])];
    const size = texts.reduce((a, p) => a + (isObj(p) && typeof p.text === "string" ? p.text.length : 0), 0);
    const label = texts.length ? `reasoning (${size.toLocaleString("en-US")} chars)` : item.encrypted_content ? "reasoning (encrypted)" : "reasoning (empty)";
    return h("details", { class: "item reasoning", "data-testid": "item-reasoning" }, h("summary", null, label), texts.length ? contentParts(texts, raw) : h("div", { class: "muted" }, "no text in the line"));
  }

  function otherItem(item) {
    return h("details", { class: "item other", "data-testid": `item-${item.type ?? "unknown"}` }, h("summary", null, String(item.type ?? "item")), jsonBlock(item));
  }

  /** Items in order, each function_call with its output (by call_id) beside it. */
  function itemsView(items, outputs, used, raw) {
    return items.map((item) => {
      if (!isObj(item)) return jsonBlock(item);
      const type = item.type ?? (item.role ? "message" : undefined);
      if (type === "message") return messageItem(item, raw);
      if (type === "function_call") {
        const out = outputs.get(item.call_id);
        if (out) used.add(out);
        return callItem(item, out, raw);
      }
      if (type === "function_call_output") {
        if (used.has(item)) return null;
        return h("div", { class: "item call-output orphan", "data-testid": "item-function_call_output" }, h("div", { class: "item-head" }, h("span", { class: "role" }, `output of ${item.call_id ?? "?"}`)), outputBody(item.output, raw));
      }
      if (type === "reasoning") return reasoningItem(item, raw);
      return otherItem(item);
    });
  }

  /** Output items cut into the model's turns: a turn is the model's items up to the tools' answers. */
  function turnsOf(output) {
    const turns = [];
    let cur = null;
    let inModel = false;
    for (const item of output) {
      const byModel = isObj(item) && !NOT_MODEL.has(String(item.type)) && !(item.type === "message" && item.role !== undefined && item.role !== "assistant");
      if (byModel && !inModel) turns.push((cur = { model: [], tools: [] }));
      if (!cur) turns.push((cur = { model: [], tools: [] }));
      (byModel ? cur.model : cur.tools).push(item);
      inModel = byModel;
    }
    return turns;
  }

  /** What a turn's items tell of it: token counts (token ids for RL), statuses. */
  function turnFacts(items) {
    const facts = [];
    let gen = 0;
    let hasGen = false;
    let prompt = null;
    const statuses = new Set();
    for (const it of items) {
      if (!isObj(it)) continue;
      if (Array.isArray(it.generation_token_ids)) {
        gen += it.generation_token_ids.length;
        hasGen = true;
      }
      if (prompt === null && Array.isArray(it.prompt_token_ids)) prompt = it.prompt_token_ids.length;
      if (typeof it.status === "string") statuses.add(it.status);
    }
    if (prompt !== null) facts.push(`${fmt.int(prompt)} prompt tokens`);
    if (hasGen) facts.push(`${fmt.int(gen)} generated tokens`);
    const finish = statuses.has("incomplete") ? "incomplete" : statuses.size ? [...statuses].join(", ") : "";
    if (finish) facts.push(`finish: ${finish}`);
    return facts;
  }

  function usageView(response) {
    const u = isObj(response.usage) ? response.usage : null;
    const parts = [];
    if (response.model) parts.push(["model", response.model]);
    if (response.status) parts.push(["status", response.status]);
    if (isObj(response.incomplete_details) && response.incomplete_details.reason) parts.push(["incomplete", response.incomplete_details.reason]);
    if (isObj(response.error)) parts.push(["error", JSON.stringify(response.error)]);
    if (u) {
      parts.push(["input tokens", fmt.int(u.input_tokens)], ["output tokens", fmt.int(u.output_tokens)], ["total tokens", fmt.int(u.total_tokens)]);
      if (isObj(u.output_tokens_details) && u.output_tokens_details.reasoning_tokens) parts.push(["reasoning tokens", fmt.int(u.output_tokens_details.reasoning_tokens)]);
      if (isObj(u.input_tokens_details) && u.input_tokens_details.cached_tokens) parts.push(["cached tokens", fmt.int(u.input_tokens_details.cached_tokens)]);
    }
    return h("div", { class: "usage", "data-testid": "usage" }, parts.map(([k, v]) => h("span", { class: "kv" }, h("span", { class: "k" }, k), " ", h("span", { class: "v" }, v))));
  }

  function transcript(line, row, raw) {
    const params = isObj(line.responses_create_params) ? line.responses_create_params : {};
    const response = isObj(line.response) ? line.response : null;
    const input = typeof params.input === "string" ? [{ type: "message", role: "user", content: params.input }] : Array.isArray(params.input) ? params.input : [];
    const output = response && Array.isArray(response.output) ? response.output : [];
    const outputs = new Map();
    for (const it of [...input, ...output]) if (isObj(it) && it.type === "function_call_output") outputs.set(it.call_id, it);
    const used = new Set();
    const tools = Array.isArray(params.tools) ? params.tools : [];
    const sections = [];
    if (typeof params.instructions === "string" && params.instructions) sections.push(h("div", { class: "item msg role-system" }, h("div", { class: "item-head" }, h("span", { class: "role" }, "instructions")), textBlock(params.instructions, raw)));
    if (tools.length) {
      sections.push(
        h("details", { class: "tools-offered", "data-testid": "tools-offered" }, h("summary", null, `tools offered: ${tools.map((t) => (isObj(t) ? t.name ?? t.type : "?")).join(", ")}`), tools.map((t) => jsonBlock(t))),
      );
    }
    sections.push(h("div", { class: "section-title" }, "input"), itemsView(input, outputs, used, raw));
    if (row.failed) {
      sections.push(h("div", { class: "failure", "data-testid": "failure" }, h("b", null, `failed: ${row.code}`), " ", isObj(line.error) ? String(line.error.message ?? "") : ""));
    } else if (!response) {
      sections.push(h("div", { class: "muted" }, "no response in this line"));
    } else {
      const turns = turnsOf(output);
      turns.forEach((t, n) => {
        const facts = turnFacts(t.model);
        sections.push(
          h(
            "div",
            { class: "turn", "data-testid": "turn" },
            h("div", { class: "turn-head" }, h("span", null, `model turn ${n + 1}`), facts.map((f) => h("span", { class: "fact" }, f))),
            itemsView(t.model, outputs, used, raw),
            itemsView(t.tools, outputs, used, raw),
          ),
        );
      });
      sections.push(usageView(response));
    }
    return h("div", { class: "transcript", "data-testid": "transcript" }, sections);
  }

  /** A field's value: short text inline, markdown-ish text and objects in blocks. */
  function valueView(v) {
    if (v === null || typeof v === "number" || typeof v === "boolean") return h("code", null, JSON.stringify(v));
    if (typeof v === "string") return v.length <= 80 && !v.includes("\n") ? h("code", null, v) : h("pre", { class: "text" }, v);
    const text = JSON.stringify(v, null, 2);
    return text.length < 400 ? h("pre", { class: "json" }, text) : h("details", null, h("summary", null, Array.isArray(v) ? `${v.length} items` : `${Object.keys(v).length} fields`), h("pre", { class: "json" }, text));
  }

  function verifier(line, row) {
    const parts = [];
    if (row.failed) {
      const err = isObj(line.error) ? line.error : {};
      parts.push(
        h(
          "div",
          { class: "failure big", "data-testid": "failure" },
          h("div", null, h("b", null, "FAILED"), " — no reward (a failed rollout is not a reward of 0)"),
          h("div", null, "code: ", h("code", { "data-testid": "failure-code" }, String(err.code ?? row.code))),
          h("div", null, "message: ", h("span", { "data-testid": "failure-message" }, String(err.message ?? ""))),
        ),
      );
    } else {
      parts.push(h("div", { class: `reward-big ${G.rewardClass(row)}`, "data-testid": "verifier-reward" }, `reward ${fmt.reward(row.reward)}`));
    }
    if ("expected_answer" in line || "extracted_answer" in line) {
      const box = (title, v) => h("div", { class: "answer" }, h("div", { class: "muted small" }, title), v === undefined ? h("span", { class: "muted" }, "(none)") : typeof v === "string" ? h("div", { class: "md", html: G.markdown.render(v) }) : valueView(v));
      parts.push(h("div", { class: "answers", "data-testid": "answer-compare" }, box("expected_answer", line.expected_answer), box("extracted_answer", line.extracted_answer)));
    }
    const fields = Object.keys(line).filter((k) => !NOT_VERIFIER.has(k) && !BOOKKEEPING(k));
    parts.push(
      h("div", { class: "section-title" }, "fields"),
      h("table", { class: "fields", "data-testid": "verifier-fields" }, fields.map((k) => h("tr", { "data-field": k }, h("th", null, k), h("td", null, valueView(line[k]))))),
    );
    const book = Object.keys(line).filter(BOOKKEEPING);
    if (book.length) parts.push(h("div", { class: "section-title" }, "bookkeeping"), h("table", { class: "fields" }, book.map((k) => h("tr", null, h("th", null, k), h("td", null, valueView(line[k]))))));
    return h("div", { class: "verifier", "data-testid": "verifier" }, parts);
  }

  function rawJson(text, line) {
    return h("pre", { class: "json raw", "data-testid": "raw-json" }, line ? JSON.stringify(line, null, 2) : text);
  }

  /** The detail pane's body for one tab. */
  function body(tab, text, row, raw) {
    let line = null;
    try {
      line = JSON.parse(text);
    } catch {
      // shown raw below
    }
    if (!isObj(line)) return h("div", null, h("div", { class: "failure" }, "this line is not a JSON object"), rawJson(text, null));
    if (tab === "verifier") return verifier(line, row);
    if (tab === "raw") return rawJson(text, line);
    return transcript(line, row, raw);
  }

  G.detail = { body, turnsOf, pretty };
})((globalThis.GymView = globalThis.GymView || {}));
