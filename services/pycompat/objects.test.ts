import { describe, expect, it } from "vitest";
import { isPyNonStrKey, isPyOpaque, pyKeyRepr, pyNonStrKey, pyNonStrKeyType, PyOpaqueFactory, setOwn } from "./objects.js";
import { pyRepr } from "./repr.js";
import { pyReprString } from "./str.js";

describe("opaque Python values", () => {
  it("print as their repr and are one object per value within a factory", () => {
    const objects = new PyOpaqueFactory();
    const d = objects.make("date", "datetime.date(2024, 1, 15)");
    expect(isPyOpaque(d)).toBe(true);
    expect(pyRepr({ born: d })).toBe("{'born': datetime.date(2024, 1, 15)}");
    expect(objects.make("date", "datetime.date(2024, 1, 15)")).toBe(d);
    expect(objects.make("datetime", "x", "same instant")).toBe(objects.make("datetime", "y", "same instant"));
    expect(isPyOpaque(() => 1)).toBe(false);
  });

  it("are of no JSON type", () => {
    const d = new PyOpaqueFactory().make("bytes", "b'x'");
    expect([typeof d === "string", typeof d === "number", typeof d === "object", Array.isArray(d)]).toEqual([false, false, false, false]);
  });
});

describe("non-str dict keys", () => {
  it("never equal a property name and keep their type and repr", () => {
    const key = pyNonStrKey("int", "1");
    expect(key).not.toBe("1");
    expect(isPyNonStrKey(key)).toBe(true);
    expect(isPyNonStrKey("1")).toBe(false);
    expect(pyNonStrKeyType(key)).toBe("int");
    expect(pyKeyRepr(key, pyReprString)).toBe("1");
    expect(pyKeyRepr("a", pyReprString)).toBe("'a'");
  });

  it("setOwn keeps '__proto__' an own key and a replaced key in its place", () => {
    const o: Record<string, unknown> = {};
    setOwn(o, "a", 1);
    setOwn(o, "__proto__", 2);
    setOwn(o, "a", 3);
    expect(Object.entries(o)).toEqual([["a", 3], ["__proto__", 2]]);
  });
});
