// explain and top's pane only read the state file: they create, lock and rename nothing. A state
// file of a newer pidwarden (version 99) moved aside would wipe that pidwarden's restart history,
// and with it its --restart-limit.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readContainerState } from '../../src/commands/explain.ts';

const ID = 'b'.repeat(64);
let dir = '';
beforeEach(() => {
  dir = mkdtempSync('/tmp/pw-explain-state-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('explain reads the state file without changing anything on disk', () => {
  test('no state directory: none is created, and no note (nothing recorded yet)', () => {
    const path = join(dir, 'var', 'state.json');
    expect(readContainerState(path, ID)).toEqual({ record: undefined, note: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a file of another version stays where it is, as it is; no history, and a note says why', () => {
    const path = join(dir, 'state.json');
    const newer = JSON.stringify({ version: 99, containers: { [ID]: { name: 'x', restarts: [1_700_000_000_000] } } });
    writeFileSync(path, newer);
    const state = readContainerState(path, ID);
    expect(state.record).toBeUndefined();
    expect(state.note).toContain('corrupt or of another version');
    expect(state.note).toContain('left as it is');
    expect(readdirSync(dir)).toEqual(['state.json']);
    expect(readFileSync(path, 'utf8')).toBe(newer);
  });

  test('a path that cannot be read as a file (a directory) is not moved aside', () => {
    const path = join(dir, 'state.json');
    mkdirSync(path);
    const state = readContainerState(path, ID);
    expect(state.record).toBeUndefined();
    expect(state.note).toContain('unreadable (EISDIR)');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  test('a good file: its record, and no lock file left beside it', () => {
    const path = join(dir, 'state.json');
    const record = { name: 'metamcp', restarts: [1_700_000_000_000] };
    writeFileSync(path, JSON.stringify({ version: 1, containers: { [ID]: record } }));
    expect(readContainerState(path, ID)).toEqual({ record, note: null });
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});
