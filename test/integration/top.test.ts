/**
 * `pidwarden top` in a real terminal: tmux (its own server socket, 80x24), driven with send-keys
 * and read with capture-pane, against containers of the private engine. Worst first, figures as the
 * kernel counts them, j/k and Enter, resize, q and SIGTERM restore the terminal, colour only
 * without NO_COLOR, and nothing is acted on. Waits are waitFor() on the pane, never fixed sleeps.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupProcs, describeEngine, engine, PIDWARDEN_BIN, RUN_ID, runPidwarden, startWorkload, waitFor, type Workload } from './harness.ts';
import { MAGIC } from './packages.ts';

setDefaultTimeout(90_000);

const LABEL_KEY = 'pidwarden-test.top';
const SOCKET = `pidwarden-top-${RUN_ID}`;

function tmux(...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(['tmux', '-L', SOCKET, '-f', '/dev/null', ...args], { stdout: 'pipe', stderr: 'pipe', timeout: 15_000 });
  return { code: r.exitCode ?? 137, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

const pane = (session: string, escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session).out;
const paneInfo = (session: string, format: string) => tmux('display-message', '-p', '-t', session, format).out.trim();

/**
 * How top exited: tmux's pane_dead_status once it reaped the process; before that (tmux sometimes
 * leaves it a zombie for a while, seen in 1 run of 4) the kernel's own record, the exit_code field
 * of /proc/<pid>/stat (proc(5): a wait status). null while it runs.
 */
function exitOf(session: string, pid: number): string | null {
  const fromTmux = paneInfo(session, '#{pane_dead_status}');
  if (fromTmux !== '') return fromTmux;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // reaped between the two looks: tmux has the status now
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] !== 'Z') return null;
  const status = Number(fields[49]);
  return (status & 0x7f) === 0 ? String(status >> 8) : `signal ${status & 0x7f}`;
}

/** top in a detached 80x24 tmux session; the pane stays after it exits so that its status can be read. */
function startTop(session: string, args: string[], env: Record<string, string> = {}): void {
  const envArgs = Object.entries({ DOCKER_HOST: engine.host ?? '', TERM: 'tmux-256color', ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const r = tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', ...envArgs, PIDWARDEN_BIN, 'top', ...args, ';', 'set-option', '-t', session, 'remain-on-exit', 'on');
  if (r.code !== 0) throw new Error(`tmux new-session: ${r.out}`);
}

describeEngine('pidwarden top under tmux', () => {
  let tmp = '';
  let storm: Workload;
  let quiet: Workload;
  let log = '';

  beforeAll(async () => {
    if (!Bun.which('tmux')) throw new Error('tmux missing: scripts/test.sh installs it');
    tmp = mkdtempSync(join(tmpdir(), 'pidwarden-top-'));
    storm = await startWorkload({ image: 'busybox', name: 'top-storm', labels: { [LABEL_KEY]: RUN_ID }, reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    quiet = await startWorkload({ image: 'busybox', name: 'top-quiet', labels: { [LABEL_KEY]: RUN_ID }, reap: true, pidsLimit: 100 });
    await waitFor(() => cgroupProcs(storm).length >= 19, 20_000, 100, 'the storm started');
    // real log lines for the actions pane: a dry run signals nothing
    log = join(tmp, 'actions.jsonl');
    const dry = await runPidwarden(['cleanup', '--container', storm.id, '--dry-run', '--log-file', log]);
    expect(dry.code).toBe(1);
  });

  afterAll(() => {
    tmux('kill-server');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('80x24: containers worst first with the kernel\'s counts, the dry run\'s would-be kills below; keys move, Enter shows details, q restores the terminal', async () => {
    const logSize = statSync(log).size;
    startTop('main', ['--label', `${LABEL_KEY}=${RUN_ID}`, '--log-file', log, '--interval', '0.5']);
    const screen = await waitFor(() => {
      const p = pane('main');
      return p.includes(storm.name) && p.includes(quiet.name) && p.includes('last actions') ? p : null;
    }, 30_000, 100, 'top drawn');
    const lines = screen.split('\n');
    expect(lines[0]).toContain('pidwarden top · ');
    expect(lines[0]).toContain('2 containers · every 0.5 s');
    const rows = lines.filter((l) => / (CRIT|WARN|OK) /.test(l));
    expect(rows[0]).toMatch(new RegExp(`^> CRIT\\s+${storm.name}\\s+(\\d+)\\s+6\\s`));
    expect(Number(/CRIT\s+\S+\s+(\d+)/.exec(rows[0]!)![1])).toBe(cgroupProcs(storm).length);
    expect(rows[1]).toMatch(new RegExp(`^ {2}OK\\s+${quiet.name}\\s+${cgroupProcs(quiet).length}\\s+0\\s+\\d+/100 \\d+%`));
    expect(screen).toMatch(new RegExp(`\\[dry\\] ${storm.name}: killed \\d+ \\(dedupe\\)`));
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);

    tmux('send-keys', '-t', 'main', 'j');
    await waitFor(() => pane('main').split('\n').find((l) => l.startsWith('>'))?.includes(quiet.name), 10_000, 50, 'j moved the selection');
    tmux('send-keys', '-t', 'main', 'k');
    await waitFor(() => pane('main').split('\n').find((l) => l.startsWith('>'))?.includes(storm.name), 10_000, 50, 'k moved it back');
    tmux('send-keys', '-t', 'main', 'Enter');
    const details = await waitFor(() => (pane('main').includes('policy:') ? pane('main') : null), 10_000, 50, 'details');
    expect(details).toContain(`${storm.name} (${storm.id.slice(0, 12)}) pidwarden-test/busybox`);
    expect(details).toContain('status CRIT:');
    expect(details).toContain('npm exec @21st-dev/magic@latest');
    // below the details: explain's plan for it, the same decision cleanup would take
    const explained = await waitFor(() => (pane('main').includes('plan: what `cleanup` would do now') ? pane('main') : null), 20_000, 100, 'explain below the details');
    expect(explained).toContain('─ explain');
    tmux('send-keys', '-t', 'main', 'Escape');
    await waitFor(() => pane('main').includes('TASKS/LIMIT'), 10_000, 50, 'back to the table');

    // resize: redrawn to the new size
    tmux('resize-window', '-t', 'main', '-x', '100', '-y', '30');
    await waitFor(() => {
      const p = pane('main').split('\n');
      return p.length >= 30 && p[29]!.includes('q quit') && p.some((l) => l.length > 80 && l.startsWith('─ last actions'));
    }, 10_000, 50, 'redrawn at 100x30');

    const pid = Number(paneInfo('main', '#{pane_pid}'));
    tmux('send-keys', '-t', 'main', 'q');
    expect(await waitFor(() => exitOf('main', pid), 10_000, 50, 'top exited on q')).toBe('0');
    // the alternate screen is left: what was on the terminal before comes back, the table does not
    expect(pane('main')).not.toContain('TASKS/LIMIT');
    // read-only: the storm untouched, nothing appended to the log
    expect(cgroupProcs(storm).length).toBeGreaterThanOrEqual(19);
    expect(statSync(log).size).toBe(logSize);
  });

  test('colour in a terminal, none with NO_COLOR; SIGTERM quits and restores the terminal too', async () => {
    startTop('colour', ['--label', `${LABEL_KEY}=${RUN_ID}`, '--interval', '0.5']);
    startTop('plain', ['--label', `${LABEL_KEY}=${RUN_ID}`, '--interval', '0.5'], { NO_COLOR: '1' });
    const red = /\x1b\[[0-9;]*31[;m]/;
    const reverse = /\x1b\[[0-9;]*7[;m]/;
    await waitFor(() => pane('colour').includes(storm.name) && reverse.test(pane('colour', true)), 30_000, 100, 'the selection in reverse video');
    // the critical row in red once the selection leaves it
    tmux('send-keys', '-t', 'colour', 'j');
    await waitFor(() => red.test(pane('colour', true)), 30_000, 100, 'red for the critical row');
    await waitFor(() => pane('plain').includes(storm.name), 30_000, 100, 'the plain one drawn');
    tmux('send-keys', '-t', 'plain', 'j');
    await waitFor(() => pane('plain').split('\n').find((l) => l.startsWith('>'))?.includes(quiet.name), 10_000, 50, 'plain: j moved the selection');
    expect(pane('plain', true)).not.toMatch(/\x1b\[[0-9;]*m/);
    for (const s of ['colour', 'plain']) {
      const pid = Number(paneInfo(s, '#{pane_pid}'));
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGTERM');
      expect(await waitFor(() => exitOf(s, pid), 10_000, 50, `${s}: exited on SIGTERM`)).toBe('0');
      expect(pane(s)).not.toContain('TASKS/LIMIT');
    }
  });

  test('without a terminal: one frame on stdout, no escape sequences, exit 0', async () => {
    const r = await runPidwarden(['top', '--label', `${LABEL_KEY}=${RUN_ID}`]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain(storm.name);
    expect(r.stdout).toContain(quiet.name);
    expect(r.stdout).not.toContain('\x1b');
    expect(existsSync(log) && readFileSync(log, 'utf8').length > 0).toBe(true);
  });
});
