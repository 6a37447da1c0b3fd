// @ts-check
// The view's state lives in the URL's hash (filters, sort, search, the
// open rollout and tab), so a view can be linked, and reloads to itself; the
// hash works from file:// too.
(function (/** @type {any} */ G) {
  "use strict";

  /** Every key the URL may hold, with its default (a default is left out of the URL). */
  const DEFAULTS = {
    view: "rollouts", // rollouts | tasks | compare
    run: "0",
    sel: "", // the open rollout: run.src.line
    tab: "transcript", // transcript | verifier | raw
    q: "", // regex search
    status: "", // pass | fail | ok | failed
    rmin: "",
    rmax: "",
    agent: "",
    tool: "", // a tool's name, or "-" for none
    tmin: "",
    tmax: "",
    task: "",
    dead: "", // only | hide
    badge: "", // all-pass | all-fail | mixed | failed
    change: "", // compare: up | down | changed | same
    sort: "",
    desc: "",
    raw: "", // 1: message text as it is, not as markdown
  };

  /** @returns {Record<keyof typeof DEFAULTS, string>} */
  function read() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const out = /** @type {any} */ ({});
    for (const [k, d] of Object.entries(DEFAULTS)) out[k] = params.get(k) ?? d;
    return out;
  }

  /** Writes the state to the hash (replacing the history entry: filters typed do not fill Back). */
  function write(state) {
    const params = new URLSearchParams();
    for (const [k, d] of Object.entries(DEFAULTS)) if (state[k] !== undefined && state[k] !== d) params.set(k, state[k]);
    const hash = params.toString();
    if (hash !== location.hash.replace(/^#/, "")) history.replaceState(null, "", hash ? `#${hash}` : location.pathname + location.search);
  }

  G.urlState = { read, write, DEFAULTS };
})((globalThis.GymView = globalThis.GymView || {}));
