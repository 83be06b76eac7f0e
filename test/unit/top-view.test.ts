// `pidwarden top`'s screen, drawn from a model: 80x24, worst first, the selection visible without
// colour, colour only when asked, the details view, the last actions of a JSONL log.
import { describe, expect, test } from 'bun:test';
import { parseRecentActions } from '../../src/top/recent-actions.ts';
import { sparkline } from '../../src/top/sparkline.ts';
import { limitVerdict, render, sortByTrouble, type TopModel, type TopRow } from '../../src/top/view.ts';

/** Lines as pidwarden writes them (the README's JSONL example, one SIGKILL and one suppressed restart added). */
const LOG = [
  '{"level":"info","time":"2026-11-21T06:34:58.410Z","event":"step","container":"metamcp","containerId":"5e7f","step":"dedupe","reason":"duplicate command lines, keeping the newest 1 of each","dryRun":false,"victims":3,"processes":9}',
  '{"level":"info","time":"2026-11-21T06:34:58.483Z","event":"kill","container":"metamcp","containerId":"5e7f","step":"dedupe","signal":"SIGTERM","pids":[17,28,29],"hostPids":[14176,14187,14188],"commands":["npm exec @21st-dev/magic@latest","sh -c \'magic\'","node /root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic"],"reason":"duplicate command lines, keeping the newest 1 of each","via":"exec","dryRun":false}',
  '{"level":"info","time":"2026-11-21T06:35:03.501Z","event":"kill","container":"metamcp","containerId":"5e7f","step":"dedupe","signal":"SIGKILL","pids":[17],"commands":["npm exec @21st-dev/magic@latest"],"reason":"still alive after the grace period","via":"exec","dryRun":false}',
  '{"level":"warn","time":"2026-11-21T06:36:00.000Z","event":"restart-suppressed","container":"agent","containerId":"9a9a","step":"restart","reason":"restart limit 3/1h reached","dryRun":false}',
  '{"level":"info","time":"2026-11-21T06:34:58.758Z","event":"result","container":"metamcp","containerId":"5e7f","healthy":true,"steps":["dedupe"],"dryRun":false}',
  '{"level":"info","time":"2026-11-21T06:36:00.1',
].join('\n');

function row(over: Partial<TopRow>): TopRow {
  return {
    id: 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8',
    name: 'metamcp',
    image: 'node:20-alpine',
    status: 'ok',
    processes: 1,
    runaway: 0,
    tasks: 1,
    limit: 100,
    pidsRatio: 0.8,
    history: [1, 1, 1],
    reasons: [],
    duplicates: [],
    orphans: 0,
    zombies: 0,
    policy: ['maxProcs: 15 (default)'],
    ...over,
  };
}

const ROWS = sortByTrouble([
  row({ name: 'postgres', tasks: 8, limit: 100 }),
  row({ name: 'metamcp', status: 'critical', processes: 22, runaway: 5, tasks: 124, limit: null, history: [40, 60, 90, 124], reasons: ['22 processes > max-procs 15'], duplicates: [{ command: 'npm exec @21st-dev/magic@latest', count: 3 }] }),
  row({ name: 'agent', status: 'warn', processes: 4, runaway: 2, tasks: 90, limit: 100, history: [90, 90] }),
  row({ name: 'cache', tasks: 50, limit: 100 }),
]);

const model = (over: Partial<TopModel> = {}): TopModel => ({
  host: 'docker-host-1',
  intervalSeconds: 2,
  now: new Date('2026-11-21T06:36:02Z'),
  rows: ROWS,
  actions: parseRecentActions(LOG, 6),
  ...over,
});

describe('the screen', () => {
  test('80x24: exactly 24 lines of at most 80 characters, worst first, the selection marked with >', () => {
    const lines = render(model(), { selected: 0, details: false }, { cols: 80, rows: 24 }, false);
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toContain('pidwarden top · docker-host-1 · 4 containers · every 2 s · 06:36:02');
    const table = lines.filter((l) => /^[> ] (CRIT|WARN|OK) /.test(l));
    expect(table.map((l) => l.split(/\s+/)[2])).toEqual(['metamcp', 'agent', 'cache', 'postgres']);
    expect(table[0]).toMatch(/^> CRIT\s+metamcp\s+22\s+5\s+124\/max no limit\s+▁▃▅█/);
    expect(table[1]).toMatch(/^ {2}WARN\s+agent\s+4\s+2\s+90\/100 near 90%/);
    expect(lines[23]).toContain('q quit');
    expect(lines.join('\n')).not.toContain('\x1b');
  });

  test('the last actions, newest first: SIGTERM victims counted once, withheld restarts, a cut last line skipped', () => {
    const lines = render(model(), { selected: 0, details: false }, { cols: 80, rows: 24 }, false);
    const at = lines.findIndex((l) => l.startsWith('─ last actions'));
    expect(lines[at + 1]).toMatch(/^06:36:00 agent: restart-suppressed · restart limit 3\/1h reached/);
    expect(lines[at + 2]).toMatch(/^06:34:58 metamcp: killed 3 \(dedupe\) · duplicate command lines/);
    expect(lines[at + 3]!.trim()).toBe('');
  });

  test('no --log-file: no actions pane, more rows for containers', () => {
    const lines = render(model({ actions: null }), { selected: 3, details: false }, { cols: 80, rows: 24 }, false);
    expect(lines.some((l) => l.startsWith('─ last actions'))).toBe(false);
    expect(lines.find((l) => l.startsWith('>'))).toContain('postgres');
  });

  test('a small terminal keeps the selection in view', () => {
    const lines = render(model(), { selected: 3, details: false }, { cols: 80, rows: 13 }, false);
    expect(lines).toHaveLength(13);
    expect(lines.find((l) => l.startsWith('>'))).toContain('postgres');
  });

  test('colour on request: red critical, reverse video for the selection', () => {
    const lines = render(model(), { selected: 1, details: false }, { cols: 80, rows: 24 }, true);
    expect(lines.find((l) => l.includes('metamcp') && l.includes('CRIT'))).toStartWith('\x1b[31;1m');
    expect(lines.find((l) => l.includes('agent') && l.includes('WARN'))).toStartWith('\x1b[7m>');
  });

  test('details of the selected container: reasons, figures, duplicates, policy', () => {
    const text = render(model(), { selected: 0, details: true }, { cols: 80, rows: 24 }, false).join('\n');
    expect(text).toContain('metamcp (db24ad411a5b) node:20-alpine');
    expect(text).toContain('status CRIT: 22 processes > max-procs 15');
    expect(text).toContain('processes 22, runaway trees 5 (orphans 0), zombies 0');
    expect(text).toContain('3 x npm exec @21st-dev/magic@latest');
    expect(text).toContain('maxProcs: 15 (default)');
    expect(text).toContain('Enter/Esc back');
  });

  test('process data never reaches the terminal raw: no escape sequence, no line break, in the details or the actions pane', () => {
    // A duplicate's command line is argv from inside the container: anything a process there chose,
    // such as an OSC title sequence, a screen clear, a newline that starts a fake line, or the 8-bit
    // CSI (U+009B) some terminals act on. The log's reasons may quote what an exec printed.
    const evil = 'node x.js \x1b]0;pwned\x07\x1b[2J\nFAKE LINE\r\u009b31m';
    const rows = [row({ name: 'metamcp', status: 'critical', reasons: [`2 x duplicate: ${evil}`], duplicates: [{ command: evil, count: 2 }] })];
    const actions = [{ time: '2026-11-21T06:36:00.000Z', container: 'metamcp', event: 'error', dryRun: false, reason: `ps failed: ${evil}` }];
    for (const details of [false, true]) {
      const lines = render(model({ rows, actions }), { selected: 0, details }, { cols: 80, rows: 24 }, false);
      expect(lines).toHaveLength(24);
      for (const l of lines) expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
      if (details) expect(lines.join('\n')).toContain('2 x node x.js ?]0;pwned??[2J\\nFAKE LINE??31m');
    }
  });

  test('wide characters: every line at most as many terminal columns as the screen has', () => {
    // 東 and 🚀 take two columns each: counted as one, a line of them wrapped and pushed the screen down.
    const wide = `node /app/${'東京'.repeat(40)}.js --emoji=${'🚀'.repeat(20)}`;
    const rows = [row({ name: 'metamcp', status: 'critical', reasons: [`2 x duplicate: ${wide}`], duplicates: [{ command: wide, count: 2 }] })];
    const lines = render(model({ rows, explain: [`       kill 500: ${wide}`] }), { selected: 0, details: true }, { cols: 80, rows: 24 }, false);
    expect(lines.some((l) => l.includes('東京東京'))).toBe(true);
    for (const l of lines) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(80);
    // and padded to the full width, as every other line is (the screen is drawn over, not cleared)
    for (const l of lines) expect(Bun.stringWidth(l)).toBe(80);
  });

  test('an engine that went away is said on the second line; no container is said too', () => {
    const lines = render(model({ rows: [], error: 'engine unreachable; retrying' }), { selected: 0, details: false }, { cols: 80, rows: 24 }, false);
    expect(lines[1]).toContain('! engine unreachable; retrying');
    expect(lines.join('\n')).toContain('no running container selected');
  });
});

describe('pieces', () => {
  test('sparkline: scaled between its own min and max, newest right, at most as wide as asked', () => {
    expect(sparkline([0, 7, 14], 12)).toBe('▁▅█');
    expect(sparkline([5, 5, 5], 12)).toBe('▁▁▁');
    expect(sparkline([], 12)).toBe('');
  });

  test('sparkline: a longer history in buckets, each its highest sample, so a short peak stays visible', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6], 3)).toBe('▁▅█'); // buckets [1,2] [3,4] [5,6]
    const history = Array.from({ length: 150 }, (_, i) => (i === 40 ? 500 : 100));
    const line = sparkline(history, 10);
    expect(line).toHaveLength(10);
    expect(line).toBe('▁▁█▁▁▁▁▁▁▁');
  });

  test('limit verdict', () => {
    expect(limitVerdict(124, null, 0.8)).toBe('no limit');
    expect(limitVerdict(10, 100, 0.8)).toBe('10%');
    expect(limitVerdict(80, 100, 0.8)).toBe('near 80%');
    expect(limitVerdict(100, 100, 0.8)).toBe('AT LIMIT');
    expect(limitVerdict(null, 100, 0.8)).toBe('?');
  });
});
