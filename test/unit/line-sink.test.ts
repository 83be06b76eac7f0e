// The log's writer against real kernel failures: /dev/full fails every write with ENOSPC, a
// directory that is gone makes a SIGHUP reopen fail.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSink } from '../../src/log/line-sink.ts';
import { createActionLog } from '../../src/log/logger.ts';

function sink(path: string) {
  const said: string[] = [];
  return { s: new LineSink({ path, say: (t) => void said.push(t) }), said };
}

describe('LineSink', () => {
  test('a full disk never throws: the failure is said once, the lines are held and printed at close', () => {
    const { s, said } = sink('/dev/full');
    expect(() => {
      s.write('{"event":"kill","n":1}\n');
      s.write('{"event":"kill","n":2}\n');
      s.write('{"event":"result","n":3}\n');
    }).not.toThrow();
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('cannot write the log to /dev/full (ENOSPC)');
    expect(s.lost).toBe(3);
    s.close();
    expect(said).toHaveLength(2);
    expect(said[1]).toContain('3 log line(s) could not be written to /dev/full (ENOSPC)');
    expect(said[1]).toContain('{"event":"kill","n":1}\n{"event":"kill","n":2}\n{"event":"result","n":3}\n');
  });

  test('at most 1000 lines are held; the oldest are dropped and counted', () => {
    const { s, said } = sink('/dev/full');
    for (let i = 0; i < 1005; i++) s.write(`{"n":${i}}\n`);
    expect(s.lost).toBe(1005);
    s.close();
    expect(said.at(-1)).toContain('5 of them dropped');
    expect(said.at(-1)).not.toContain('{"n":4}\n');
    expect(said.at(-1)).toContain('{"n":5}\n');
  });

  test('a SIGHUP reopen that fails keeps the old file and says so; a later one that works writes there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-sink-'));
    try {
      const path = join(dir, 'logs', 'p.jsonl');
      mkdirSync(join(dir, 'logs'));
      const { s, said } = sink(path);
      s.write('a\n');
      renameSync(join(dir, 'logs'), join(dir, 'moved')); // the directory is gone: open fails with ENOENT
      s.reopen();
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(`SIGHUP: cannot reopen ${path} (ENOENT)`);
      s.write('b\n');
      expect(readFileSync(join(dir, 'moved', 'p.jsonl'), 'utf8')).toBe('a\nb\n');
      mkdirSync(join(dir, 'logs'));
      s.reopen();
      s.write('c\n');
      expect(readFileSync(path, 'utf8')).toBe('c\n');
      s.close();
      expect(s.lost).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the action log on a full disk', () => {
  test('every call returns; lost lines are counted for the exit code', () => {
    const said: string[] = [];
    const log = createActionLog('/dev/full', (t) => void said.push(t));
    expect(() => {
      log.info({ event: 'kill', container: 'c', pids: [5] });
      log.error({ event: 'error', container: 'c', reason: 'x' });
      log.reopen();
    }).not.toThrow();
    expect(log.lost).toBe(2);
    log.flush();
    expect(said[0]).toContain('ENOSPC');
    const held = said.at(-1)!.split('\n').filter((l) => l.startsWith('{'));
    expect(held.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['kill', 'error']);
  });
});

test('after close the lost count stays (it decides the exit code), and a second close says nothing new', () => {
  const said: string[] = [];
  const s = new LineSink({ path: '/dev/full', say: (t) => void said.push(t) });
  s.write('x\n');
  s.close();
  expect(s.lost).toBe(1);
  const n = said.length;
  s.close();
  expect(said).toHaveLength(n);
  expect(s.lost).toBe(1);
});
