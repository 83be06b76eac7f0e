// The local route's join of `ps` rows with the host's records (src/observe/ps/host-join.ts), on
// BusyBox 1.35's verbatim `ps -o pid,ppid,stat,args` and the ground truth of the same moment
// (test/fixtures/ps/busybox-1.35.0-debian-static). ps prints no start time, so the join is by PID
// and the host's record must be the whole word on what a live process is.
import { expect, test } from 'bun:test';
import { isRunaway } from '../../src/decide/runaway.ts';
import { joinWithHost } from '../../src/observe/ps/host-join.ts';
import { parsePs } from '../../src/observe/ps/parse.ts';
import type { Proc } from '../../src/types.ts';
import { BB135, psFixture, truthOf, type TruthProc } from './helpers/fixtures.ts';

const CAPTURE = 'ps-o-pid-ppid-stat-args';
const truth = truthOf(BB135);
const rows = parsePs(psFixture(BB135, `${CAPTURE}.txt`)).rows;
const probes = [truth.commands[CAPTURE]!.argv];
const HOST_PID_OFFSET = 40000;

/** The host's record of a truth process, as readHostProcs gives it (PIDs at the container's level). */
function hostRecord(t: TruthProc): Proc {
  return { pid: t.pid, ppid: t.ppid, command: t.argv.join(' '), comm: t.comm, state: t.state, threads: t.threads, startTicks: t.start_ticks_since_boot, hostPid: t.pid + HOST_PID_OFFSET };
}

const rules = { match: [/^npm exec /], npxOrphans: true, protect: [] };

test('every live process is described by the host: host PID, start time, threads, the exact argv', () => {
  const host = truth.processes.map(hostRecord);
  const procs = joinWithHost(rows, host, probes);
  expect(procs.length).toBe(truth.processes.length);
  for (const p of procs) {
    const t = truth.processes.find((x) => x.pid === p.pid)!;
    expect(p).toMatchObject({ hostPid: t.pid + HOST_PID_OFFSET, startTicks: t.start_ticks_since_boot, threads: t.threads, ppid: t.ppid });
    if (t.state !== 'Z') expect(p.command).toBe(t.argv.join(' '));
  }
});

test('a PID handed to a process with no argv between ps and the host read does not inherit the npm row', () => {
  const npm = truth.processes.find((t) => t.argv[0]!.startsWith('npm exec '))!;
  // the npm process exited after ps ran; its PID now belongs to an exiting process whose argv is
  // already gone ("[comm]" on the host), started later
  const reused: Proc = { pid: npm.pid, ppid: 1, command: '[worker]', comm: 'worker', state: 'R', threads: 1, startTicks: npm.start_ticks_since_boot + 5000, hostPid: npm.pid + HOST_PID_OFFSET };
  const host = truth.processes.map((t) => (t.pid === npm.pid ? reused : hostRecord(t)));
  const p = joinWithHost(rows, host, probes).find((x) => x.pid === npm.pid)!;
  expect(rows.find((r) => r.pid === npm.pid)!.command).toStartWith('npm exec ');
  expect(p.command).toBe('[worker]');
  expect(p.startTicks).toBe(reused.startTicks);
  expect(isRunaway(p, rules)).toBe(false);
});

test('a zombie keeps ps\'s rendering (no argv on the host); a row without a host record is dropped', () => {
  const [first, second] = truth.processes.filter((t) => t.pid !== 1);
  const host = truth.processes
    .filter((t) => t.pid !== second!.pid)
    .map((t) => (t.pid === first!.pid ? { ...hostRecord(t), state: 'Z', command: `[${t.comm}]` } : hostRecord(t)));
  const procs = joinWithHost(rows, host, probes);
  expect(procs.find((p) => p.pid === second!.pid)).toBeUndefined();
  const zombie = procs.find((p) => p.pid === first!.pid)!;
  expect(zombie.state).toBe('Z');
  expect(zombie.command).toBe(rows.find((r) => r.pid === first!.pid)!.command);
});
