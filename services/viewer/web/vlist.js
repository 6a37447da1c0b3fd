// @ts-check
// A virtualized list: a spacer as tall as every row, and only the rows in
// view (plus a few) in the DOM, so 100,000 rows scroll like 50.
(function (/** @type {any} */ G) {
  "use strict";

  const OVERSCAN = 8;

  class VList {
    /**
     * @param {HTMLElement} viewport a scrolling element
     * @param {number} rowHeight px
     * @param {(i: number, el: HTMLElement) => void} renderRow fills a row's element
     */
    constructor(viewport, rowHeight, renderRow) {
      this.viewport = viewport;
      this.rowHeight = rowHeight;
      this.renderRow = renderRow;
      this.count = 0;
      this.spacer = document.createElement("div");
      this.spacer.className = "vlist-spacer";
      viewport.appendChild(this.spacer);
      this.frame = 0;
      viewport.addEventListener("scroll", () => this.schedule());
      new ResizeObserver(() => this.schedule()).observe(viewport);
    }

    setCount(n) {
      this.count = n;
      this.spacer.style.height = `${n * this.rowHeight}px`;
      this.render();
    }

    schedule() {
      if (!this.frame) this.frame = requestAnimationFrame(() => ((this.frame = 0), this.render()));
    }

    render() {
      const top = this.viewport.scrollTop;
      const height = this.viewport.clientHeight || 600;
      const first = Math.max(0, Math.floor(top / this.rowHeight) - OVERSCAN);
      const last = Math.min(this.count, Math.ceil((top + height) / this.rowHeight) + OVERSCAN);
      const rows = document.createDocumentFragment();
      for (let i = first; i < last; i++) {
        const el = document.createElement("div");
        el.className = "vrow";
        el.style.top = `${i * this.rowHeight}px`;
        el.style.height = `${this.rowHeight}px`;
        el.dataset.index = String(i);
        this.renderRow(i, el);
        rows.appendChild(el);
      }
      this.spacer.replaceChildren(rows);
    }

    /** Scrolls as little as needed to show row i. */
    reveal(i) {
      const y = i * this.rowHeight;
      const v = this.viewport;
      if (y < v.scrollTop) v.scrollTop = y;
      else if (y + this.rowHeight > v.scrollTop + v.clientHeight) v.scrollTop = y + this.rowHeight - v.clientHeight;
      this.render();
    }
  }

  G.VList = VList;
})((globalThis.GymView = globalThis.GymView || {}));
