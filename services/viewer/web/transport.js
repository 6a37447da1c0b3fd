// @ts-check
// Where the page's data comes from: the `gym view` server (a small JSON API
// and server-sent events), or a bundle's data scripts (gym view --bundle,
// opened from disk: no fetch, so lines come in script tags). Both answer the
// same calls (spans, api/trace, only from the server).
(function (/** @type {any} */ G) {
  "use strict";

  async function getJson(url) {
    const res = await fetch(url);
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
    return body;
  }

  const server = {
    kind: "server",
    meta: () => getJson("api/meta"),
    summaries: (run, src, from, gen) => getJson(`api/summaries?run=${run}&src=${src}&from=${from}&gen=${gen}`),
    async line(run, src, i, gen) {
      const res = await fetch(`api/line?run=${run}&src=${src}&i=${i}&gen=${gen}`);
      if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || `${res.status}`);
      return res.text();
    },
    search: (run, q) => getJson(`api/search?run=${run}&q=${encodeURIComponent(q)}`),
    /** The spans of one trace (from the traces files), for the waterfall. */
    trace: (id) => getJson(`api/trace?id=${encodeURIComponent(id)}`).then((body) => body.spans),
    /** Calls `onState` with the runs' counts now and whenever lines land; `onDown(bool)` when the server goes and comes. */
    subscribe(onState, onDown) {
      const es = new EventSource("api/events");
      es.addEventListener("state", (e) => {
        onDown(false);
        onState(JSON.parse(/** @type {MessageEvent} */ (e).data));
      });
      es.onerror = () => onDown(true);
    },
  };

  function bundle(B) {
    /** lines["0.r"][chunk] = the chunk's lines */
    const lines = {};
    const waiting = {};
    // Each data/lines-*.js file calls this as it loads.
    B.chunk = (key, n, texts) => {
      (lines[key] = lines[key] || {})[n] = texts;
      const w = waiting[`${key}.${n}`];
      if (w) w.resolve();
    };
    function load(key, n) {
      if (lines[key] && lines[key][n]) return Promise.resolve();
      const id = `${key}.${n}`;
      if (!waiting[id]) {
        let resolve = (/** @type {any} */ _v) => {};
        let reject = (/** @type {Error} */ _err) => {};
        const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
        waiting[id] = { promise, resolve, reject };
        const [run, src] = key.split(".");
        const s = document.createElement("script");
        s.src = `data/lines-${run}-${src}-${n}.js`;
        s.onerror = () => {
          delete waiting[id];
          reject(new Error(`cannot load ${s.src}`));
        };
        document.head.appendChild(s);
      }
      return waiting[id].promise;
    }
    const chunkOf = (key, i) => {
      const starts = B.chunks[key] || [];
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    return {
      kind: "bundle",
      meta: async () => B.meta,
      summaries: async (run, src) => ({ ...B.summaries[`${run}.${src}`], strings: B.meta.strings }),
      async line(run, src, i) {
        const key = `${run}.${src}`;
        const n = chunkOf(key, i);
        await load(key, n);
        return lines[key][n][i - B.chunks[key][n]];
      },
      // The same search as the server's (search.ts): the regex on each raw line, case-insensitive.
      async search(run, q) {
        const re = new RegExp(q, "i");
        const out = { r: /** @type {number[]} */ ([]), f: /** @type {number[]} */ ([]), truncated: false };
        for (const src of /** @type {const} */ (["r", "f"])) {
          const key = `${run}.${src}`;
          const starts = B.chunks[key] || [];
          for (let n = 0; n < starts.length; n++) {
            await load(key, n);
            lines[key][n].forEach((text, j) => re.test(text) && out[src].push(starts[n] + j));
          }
        }
        return out;
      },
      subscribe() {},
    };
  }

  const B = /** @type {any} */ (globalThis).GymViewBundle;
  G.transport = B ? bundle(B) : server;
})((globalThis.GymView = globalThis.GymView || {}));
