// Small file readers for /proc and the cgroup fs. Both are pseudo-files: sizes lie (stat says 0 or
// 4096), so read whole; a vanished process is ENOENT/ESRCH, which callers treat as "gone", not error.
import { readFile } from 'node:fs/promises';

export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export async function readBytes(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch {
    return null;
  }
}
