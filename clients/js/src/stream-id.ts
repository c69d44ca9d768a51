/**
 * Stream ids as Redis writes them: `<ms>-<seq>`, both unsigned 64-bit decimals
 * (PROTOCOL.md section 5). They are compared numerically, ms first. Doing it on the
 * decimal digits (length, then text) is exact for any size and needs no BigInt; a
 * plain string comparison is wrong ("9-0" > "10-0").
 */

const ID = /^(\d+)(?:-(\d+))?$/;

/** The two parts of an id with leading zeros dropped, or null when it is not an id. */
export function parseStreamId(id: string): [ms: string, seq: string] | null {
  const m = ID.exec(id);
  if (!m) return null;
  return [stripZeros(m[1]!), stripZeros(m[2] ?? "0")];
}

/** True when `id` is a well-formed stream id. */
export function isStreamId(id: unknown): id is string {
  return typeof id === "string" && ID.test(id);
}

/**
 * Negative, zero or positive as `a` is before, equal to or after `b`. Ill-formed ids
 * sort before every well-formed one and equal to each other.
 */
export function compareStreamIds(a: string, b: string): number {
  const pa = parseStreamId(a);
  const pb = parseStreamId(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return compareDigits(pa[0], pb[0]) || compareDigits(pa[1], pb[1]);
}

function stripZeros(digits: string): string {
  const s = digits.replace(/^0+/, "");
  return s === "" ? "0" : s;
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
