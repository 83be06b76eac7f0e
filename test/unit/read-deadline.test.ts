// readBytes (src/observe/fs.ts) against a read that never ends: a FIFO with no writer blocks its
// reader in open(2) as a cmdline read blocks on a process stuck holding its mmap lock.
import { afterAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBytes } from '../../src/observe/fs.ts';

const dir = mkdtempSync(join(tmpdir(), 'pidwarden-fifo-'));
const fifo = join(dir, 'cmdline');
expect(spawnSync('mkfifo', [fifo]).status).toBe(0);

afterAll(() => {
  // let the abandoned reader go: a writer opens and closes, the read ends with 0 bytes
  closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  rmSync(dir, { recursive: true, force: true });
});

test('a read that does not end within its deadline is null, and the run goes on', async () => {
  expect(await readBytes(fifo, 100)).toBeNull();
});

test('an ordinary file is read whole; a missing one is null', async () => {
  const bytes = await readBytes('/proc/self/cmdline');
  expect(bytes !== null && bytes.length > 0).toBe(true);
  expect(await readBytes(join(dir, 'gone'))).toBeNull();
});
