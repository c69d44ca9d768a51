/**
 * Reconnect delays: exponential growth from `initialMs` by `factor` per failed attempt,
 * capped at `maxMs`, with up to `jitter` (a fraction) taken off at random so that many
 * clients dropped by one server restart do not all come back in the same instant.
 */

export interface BackoffOptions {
  /** Delay before the first retry. Default 1000 ms. */
  initialMs?: number;
  /** The longest delay. Default 30000 ms. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay that may be taken off at random, 0..1. Default 0.5. */
  jitter?: number;
}

export const defaultBackoff: Required<BackoffOptions> = {
  initialMs: 1000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, factor, jitter } = { ...defaultBackoff, ...options };
  const base = Math.min(maxMs, initialMs * Math.pow(factor, Math.max(0, attempt)));
  const j = Math.min(1, Math.max(0, jitter));
  return Math.round(base * (1 - j * random()));
}
