// The last actions of the JSONL log (--log-file), for `top`: the end of the file only (64 KiB
// holds ~150 kill lines), parsed line by line; a line cut at the start of the window or not JSON
// is skipped, never fatal.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface RecentAction {
  time: string;
  container: string;
  event: string;
  step?: string;
  processes?: number;
  dryRun: boolean;
  reason?: string;
}

const TAIL_BYTES = 64 * 1024;
const SHOWN = new Set(['kill', 'restart', 'restart-skipped', 'restart-suppressed', 'busy', 'error']);

export function readRecentActions(path: string, max: number): RecentAction[] | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return parseRecentActions(buf.subarray(0, n).toString('utf8'), max, start > 0);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Newest first. `cut`: the text starts inside a line (the file's tail), so its first line is dropped. */
export function parseRecentActions(text: string, max: number, cut = false): RecentAction[] {
  const lines = text.split('\n');
  if (cut) lines.shift();
  const out: RecentAction[] = [];
  for (let i = lines.length - 1; i >= 0 && out.length < max; i--) {
    const line = lines[i]!;
    if (line === '') continue;
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const event = String(f['event'] ?? '');
    if (!SHOWN.has(event)) continue;
    if (event === 'kill' && f['signal'] !== 'SIGTERM') continue; // SIGKILL names the same victims again
    out.push({
      time: String(f['time'] ?? ''),
      container: String(f['container'] ?? f['containerId'] ?? '?'),
      event,
      ...(typeof f['step'] === 'string' ? { step: f['step'] } : {}),
      ...(Array.isArray(f['pids']) ? { processes: f['pids'].length } : {}),
      dryRun: f['dryRun'] === true,
      ...(typeof f['reason'] === 'string' ? { reason: f['reason'] } : {}),
    });
  }
  return out;
}
