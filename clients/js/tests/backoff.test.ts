import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/backoff.js";

describe("backoffDelay", () => {
  it("grows exponentially and is capped", () => {
    const none = () => 0; // no jitter taken off
    const d = [0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, {}, none));
    expect(d).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it("takes up to the jitter fraction off at random", () => {
    expect(backoffDelay(2, { jitter: 0.5 }, () => 1)).toBe(2000);
    expect(backoffDelay(2, { jitter: 0.5 }, () => 0.5)).toBe(3000);
    expect(backoffDelay(2, { jitter: 0 }, () => 1)).toBe(4000);
  });

  it("is configurable", () => {
    const opts = { initialMs: 100, maxMs: 500, factor: 3, jitter: 0 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, opts))).toEqual([100, 300, 500, 500]);
  });
});
