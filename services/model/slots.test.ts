import { describe, expect, it } from "vitest";
import { Slots } from "./slots.js";

describe("Slots", () => {
  it("hands out at most `size` slots and serves waiters in order", async () => {
    const slots = new Slots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((r) => (order.push("c"), r));
    const d = slots.acquire().then((r) => (order.push("d"), r));
    expect(slots.inUse).toBe(2);
    expect(slots.waiting).toBe(2);
    b();
    b(); // a second release of the same slot does nothing
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect(slots.inUse).toBe(2);
    a();
    (await d)();
    releaseC();
    expect(order).toEqual(["c", "d"]);
    expect(slots.inUse).toBe(0);
  });

  it("drops a waiter whose signal aborts, and gives its turn to the next", async () => {
    const slots = new Slots(1);
    const held = await slots.acquire();
    const controller = new AbortController();
    const cancelled = slots.acquire(controller.signal);
    const next = slots.acquire();
    controller.abort(new Error("gone"));
    await expect(cancelled).rejects.toThrow("gone");
    expect(slots.waiting).toBe(1);
    held();
    const release = await next;
    expect(slots.inUse).toBe(1);
    release();
    await expect(slots.acquire(controller.signal)).rejects.toThrow("gone");
  });

  it("stays in order through a long queue", async () => {
    const slots = new Slots(1);
    const first = await slots.acquire();
    const served: number[] = [];
    const waiters = Array.from({ length: 5000 }, (_, i) => slots.acquire().then((release) => (served.push(i), release())));
    first();
    await Promise.all(waiters);
    expect(served).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(slots.inUse).toBe(0);
  });
});
