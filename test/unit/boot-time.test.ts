// btime: parsed from the kernel's /proc/stat, read once for a whole audit or monitor cycle, read
// again after that (a wall-clock step moves it: src/observe/boot-time.ts).
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBootTime, readBootTimeSeconds, startedAtMs } from '../../src/observe/boot-time.ts';
import { fixture } from './helpers/fixtures.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function procRootWith(stat: string | null): string {
  const dir = mkdtempSync(join(tmpdir(), 'pw-boot-'));
  dirs.push(dir);
  if (stat !== null) writeFileSync(join(dir, 'stat'), stat);
  return dir;
}
const statWith = (btime: number) => `cpu  1 2 3 4\nintr 5\nctxt 6\nbtime ${btime}\nprocesses 7\n`;

describe('parseBootTime', () => {
  test("this host's /proc/stat, verbatim", () => {
    expect(parseBootTime(fixture('layout', 'proc-stat.txt'))).toBeGreaterThan(1_600_000_000);
  });
  test('no btime line: null', () => {
    expect(parseBootTime('cpu  1 2 3\n')).toBeNull();
    expect(parseBootTime('')).toBeNull();
  });
  test('start ticks (USER_HZ 100) after boot, in ms since the epoch', () => {
    expect(startedAtMs(250, 1_700_000_000)).toBe(1_700_000_002_500);
  });
});

describe('readBootTimeSeconds', () => {
  test('one read serves the next second; a later call reads again', async () => {
    const root = procRootWith(statWith(1_700_000_000));
    expect(await readBootTimeSeconds(root, 10_000)).toBe(1_700_000_000);
    writeFileSync(join(root, 'stat'), statWith(1_700_000_007)); // the wall clock stepped 7 s
    expect(await readBootTimeSeconds(root, 10_900)).toBe(1_700_000_000);
    expect(await readBootTimeSeconds(root, 11_000)).toBe(1_700_000_007);
  });
  test('an unreadable /proc/stat is not remembered', async () => {
    const root = procRootWith(null);
    expect(await readBootTimeSeconds(root, 20_000)).toBeNull();
    writeFileSync(join(root, 'stat'), statWith(1_700_000_000));
    expect(await readBootTimeSeconds(root, 20_001)).toBe(1_700_000_000);
  });
  test('each procRoot has its own', async () => {
    const a = procRootWith(statWith(1_700_000_001));
    const b = procRootWith(statWith(1_700_000_002));
    expect(await readBootTimeSeconds(a, 30_000)).toBe(1_700_000_001);
    expect(await readBootTimeSeconds(b, 30_000)).toBe(1_700_000_002);
  });
});
