// Pure restart rate limit, in the spirit of moby's restartmanager: the decision is a function of
// the past restarts and the clock, with the limits as named values, so it is tested without waiting.

export interface RestartLimit {
  count: number;
  windowMs: number;
}

/** Default --restart-limit: 3 restarts per hour. A container that needs more is not fixable by restarts. */
export const DEFAULT_RESTART_LIMIT: RestartLimit = { count: 3, windowMs: 60 * 60 * 1000 };

export interface RestartDecision {
  allowed: boolean;
  /** Restarts inside the window, before this one. */
  recent: number;
  /** When the oldest restart in the window leaves it (only when not allowed). */
  retryAtMs?: number;
}

/**
 * A restart counts while it is less than one window old, and also while it is less than one
 * window in the future: a record in the future was made before the wall clock was stepped back
 * (NTP, a VM resumed), and ignoring it let 3 restarts made just before a 5-minute step back
 * count as 0, so the limit was gone. One a window or more ahead comes from a clock that was badly
 * wrong; counted, it would block restarts until the clock caught up with it (a year, for a record
 * made by a clock a year fast).
 */
export function decideRestart(history: readonly number[], nowMs: number, limit: RestartLimit): RestartDecision {
  const inWindow = history.filter((t) => t > nowMs - limit.windowMs && t < nowMs + limit.windowMs).sort((a, b) => a - b);
  if (inWindow.length < limit.count) return { allowed: true, recent: inWindow.length };
  // With a limit of 0 restarts nothing ever leaves the window that would allow one: no retry time.
  const oldest = inWindow[inWindow.length - limit.count];
  // Retry at oldest + window, when the oldest record that must go leaves the window, in the past or
  // in the future alike. That is always later than now (every counted record is after now - window),
  // so a max(…, now + 1) would never change it; and then this function allows the restart, unless a
  // record that is now a window or more ahead has come into the window by then.
  return { allowed: false, recent: inWindow.length, ...(oldest !== undefined ? { retryAtMs: oldest + limit.windowMs } : {}) };
}

/**
 * The longest window and the most attempts a limit may name. The state file keeps exactly this much
 * history (src/state/state-file.ts), so its pruning never changes a decision: a 3/30d limit over a
 * 7-day history would let a fourth restart through.
 */
export const MAX_RESTART_WINDOW_MS = 7 * 86_400_000;
export const MAX_RESTART_COUNT = 100;
export const RESTART_LIMIT_FORM = `N/WINDOW such as 3/1h (N at most ${MAX_RESTART_COUNT}, WINDOW at most 7d)`;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "3/1h", "5/30m", "10/90s", "1/1d" -> RestartLimit; null when malformed. */
export function parseRestartLimit(text: string): RestartLimit | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(text);
  if (!m) return null;
  const count = Number(m[1]);
  const windowMs = Number(m[2]) * UNIT_MS[m[3]!]!;
  if (!Number.isSafeInteger(count) || windowMs <= 0) return null;
  if (count > MAX_RESTART_COUNT || windowMs > MAX_RESTART_WINDOW_MS) return null;
  return { count, windowMs };
}
