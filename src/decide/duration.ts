// Pure: durations as an operator writes them: "90s", "30m", "1h", "2d", or a bare number of seconds.

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or null when the text is not a positive duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] || 's']!;
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null;
}

/** "1h", "90s", "1.5m": for log lines and summaries. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 100) / 10}s`;
}
