import { describe, expect, it } from "vitest";
import { compareStreamIds, isStreamId, parseStreamId } from "../src/stream-id.js";

describe("stream ids", () => {
  it("compare numerically, ms first, not as strings", () => {
    expect(compareStreamIds("9-0", "10-0")).toBeLessThan(0);
    expect(compareStreamIds("10-0", "9-0")).toBeGreaterThan(0);
    expect(compareStreamIds("5-10", "5-9")).toBeGreaterThan(0);
    expect(compareStreamIds("5-2", "6-0")).toBeLessThan(0);
    expect(compareStreamIds("1700000000000-3", "1700000000000-3")).toBe(0);
    expect(compareStreamIds("007-1", "7-1")).toBe(0);
  });

  it("stay exact beyond 2^53 and up to 2^64-1", () => {
    const max = "18446744073709551615";
    expect(compareStreamIds(`1-${max}`, "1-18446744073709551614")).toBeGreaterThan(0);
    expect(compareStreamIds(`${max}-0`, "9007199254740993-0")).toBeGreaterThan(0);
    expect(compareStreamIds("9007199254740993-0", "9007199254740992-0")).toBeGreaterThan(0);
  });

  it("parse and reject", () => {
    expect(parseStreamId("12-3")).toEqual(["12", "3"]);
    expect(parseStreamId("12")).toEqual(["12", "0"]);
    expect(parseStreamId("a-1")).toBeNull();
    expect(isStreamId("1-1")).toBe(true);
    expect(isStreamId("1-")).toBe(false);
    expect(isStreamId(5)).toBe(false);
    expect(compareStreamIds("junk", "0-0")).toBeLessThan(0);
  });
});
