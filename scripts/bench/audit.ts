// b. The audit of N running containers: pidwarden (default route: one `ps` exec per container;
// --proc-source host: the host's /proc, no exec) against scripts/shell-audit.sh (`docker stats
// --no-stream`, then `docker exec ps` in each), in the same run. Wall time, CPU and peak RSS of the
// pidwarden process. The shell way runs once at 200 containers (~50 s each time here).
// Each route's audits follow one another with the bench's state file, as audits from cron do: the
// CPU % of each container is then over the time since the previous audit (src/observe/cpu-mark.ts).
// The host route also runs as a first audit, with an empty state file each time: its CPU % then
// needs a fresh 100 ms window.
import { join } from 'node:path';
import { best, BIN, env, figures, ms, OUT, results, ROOT, row, verdict } from './common.ts';
import { engineCpuMs } from './engine-cpu.ts';

export function benchAudit(tag: string, names: string[], label: string): void {
  const times = names.length > 50 ? 1 : 3;
  const args = [BIN, 'audit', '--json', '--label', label];
  const e0 = engineCpuMs();
  const pw = best(args, times);
  const e1 = engineCpuMs();
  const pwHost = best([...args, '--proc-source', 'host'], times);
  const e2 = engineCpuMs();
  let fresh = 0;
  const pwHostFirst = best([...args, '--proc-source', 'host'], times, () => ({ ...env, PIDWARDEN_STATE_FILE: join(OUT, 'state-first', `${tag}-${names.length}-${++fresh}.json`) }));
  // The engine's CPU per container on each route; the difference is what one `ps` exec costs it.
  const enginePerExec = ((e1 - e0) - (e2 - e1)) / times / names.length;
  const sh = best(['bash', join(ROOT, 'scripts', 'shell-audit.sh'), ...names], times);
  // What no container costs: start, parse, the container list, `docker info`, host figures.
  const none = best([BIN, 'audit', '--json', '--label', 'pidwarden-bench-none=1'], times);
  const ratio = pw.ms / sh.ms;
  const ratioHost = pwHost.ms / sh.ms;
  const ratioHostFirst = pwHostFirst.ms / sh.ms;
  // The difference between the routes is the one `ps` exec per container (runc's work in the engine).
  const perExec = (pw.ms - pwHost.ms) / names.length;
  results[`audit${names.length}`] = {
    containers: names.length,
    pidwarden: { ms: pw.ms, cpuMs: pw.cpuMs, peakMiB: pw.peakMiB, exit: pw.code },
    pidwardenHostProc: { ms: pwHost.ms, cpuMs: pwHost.cpuMs, peakMiB: pwHost.peakMiB, exit: pwHost.code },
    pidwardenHostProcFirst: { ms: pwHostFirst.ms, cpuMs: pwHostFirst.cpuMs, peakMiB: pwHostFirst.peakMiB, exit: pwHostFirst.code },
    ratioHostProcFirst: ratioHostFirst,
    shellMs: sh.ms,
    noContainerMs: none.ms,
    ratio,
    ratioHostProc: ratioHost,
    execCostMsPerContainer: perExec,
    engineCpuMsPerExec: enginePerExec,
    met: ratio <= 0.1 && ratioHost <= 0.03,
  };
  row(`${tag}. audit ${names.length} containers`, figures(pw), ms(sh.ms), ratio.toFixed(3), `<= 0.1: ${verdict(ratio <= 0.1)}`);
  row('   ... --proc-source host', figures(pwHost), ms(sh.ms), ratioHost.toFixed(3), `<= 0.03: ${verdict(ratioHost <= 0.03)}`);
  row('   ... --proc-source host, first audit', figures(pwHostFirst), ms(sh.ms), ratioHostFirst.toFixed(3), 'reference: + the 100 ms CPU window');
  row('   ... cost of the ps exec', `${perExec.toFixed(1)} ms/container`, '', `${names.length} execs`, 'explains the gap');
  row('   ... engine CPU per ps exec', `${enginePerExec.toFixed(1)} ms`, '', `${navigator.hardwareConcurrency} cores`, 'dockerd, containerd, shim, runc');
  row('   ... fixed cost (no container selected)', figures(none), '', '', 'floor of both routes');
}
