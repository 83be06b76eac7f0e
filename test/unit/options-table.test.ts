// The README's Options table says which commands take each option, and an operator sets the option
// in cron by that table. It said "all" for --timeout while reap took none (PIDWARDEN_TIMEOUT=60 left
// reap at 10 s), and "all" for --concurrency, which reap did not take either. Now every row is
// checked against the settings the commands read (src/cli/settings.ts).
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS, type CommandName } from '../../src/cli/settings.ts';

const COMMANDS: readonly CommandName[] = ['audit', 'cleanup', 'monitor', 'explain', 'reap', 'top'];
const README = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8');

/** The rows of the table under "## Options": option flag and its commands column, as written. */
function optionRows(): { flag: string; commands: string }[] {
  const start = README.indexOf('\n## Options\n');
  const end = README.indexOf('\n## ', start + 1);
  const rows: { flag: string; commands: string }[] = [];
  for (const line of README.slice(start, end).split('\n')) {
    // cells split at pipes that are not escaped (`NAME\|ID`)
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const flag = /^`--([a-z-]+)/.exec(cells[1] ?? '')?.[1];
    if (flag !== undefined) rows.push({ flag, commands: cells[2] ?? '' });
  }
  return rows;
}

/** "all", "all but reap", "all but explain, reap", or a list "cleanup, monitor". */
function commandsOf(column: string): CommandName[] {
  if (column === 'all') return [...COMMANDS];
  const but = /^all but (.+)$/.exec(column);
  const listed = (but ? but[1]! : column).split(/,\s*/) as CommandName[];
  for (const c of listed) expect(COMMANDS).toContain(c);
  return but ? COMMANDS.filter((c) => !listed.includes(c)) : listed;
}

test('the table has a row for the selection, the thresholds and the acting options', () => {
  const flags = optionRows().map((r) => r.flag);
  for (const f of ['container', 'max-procs', 'timeout', 'concurrency', 'dry-run', 'state-file']) expect(flags).toContain(f);
});

test.each(optionRows().filter((r) => r.flag !== 'config'))('--$flag: the commands the README names are those that take it', ({ flag, commands }) => {
  const spec = SETTINGS.find((s) => s.flag === flag);
  expect(spec).toBeDefined();
  expect([...new Set(spec!.commands)].sort()).toEqual(commandsOf(commands).sort());
});

test('--config is read by every command', () => {
  expect(optionRows().find((r) => r.flag === 'config')?.commands).toBe('all');
});

test('every option is in the README, in this table or in its own section', () => {
  for (const spec of SETTINGS) expect(README).toContain(`--${spec.flag}`);
});
