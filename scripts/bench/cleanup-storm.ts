// a. Cleanup of a storm of STORM_TREES `npm exec` trees in twin containers: pidwarden cleanup
// against scripts/shell-cleanup.sh (one `docker exec kill` per process, then `docker restart`).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, figures, ms, OUT, processCount, QUICK, results, ROOT, row, run, startContainer, verdict, waitFor, docker } from './common.ts';

const STORM_TREES = QUICK ? 40 : 150;

export async function benchCleanup(): Promise<void> {
  const expected = STORM_TREES * 3 + 1;
  startContainer('bench-storm-pw', STORM_TREES);
  startContainer('bench-storm-sh', STORM_TREES);
  await waitFor(async () => (await processCount('bench-storm-pw')) >= expected, 120_000, 'storm A');
  await waitFor(async () => (await processCount('bench-storm-sh')) >= expected, 120_000, 'storm B');
  const log = join(OUT, 'cleanup.jsonl');
  rmSync(log, { force: true });
  const pw = run([BIN, 'cleanup', '--container', 'bench-storm-pw', '--log-file', log]);
  const pwRestart = existsSync(log) && readFileSync(log, 'utf8').includes('"event":"restart"');
  const pwAfter = await processCount('bench-storm-pw');
  const sh = run(['bash', join(ROOT, 'scripts', 'shell-cleanup.sh'), 'bench-storm-sh', '15']);
  const shRestart = sh.out.trim().endsWith('restart');
  const ratio = pw.ms / sh.ms;
  const met = ratio <= 0.03 && !pwRestart;
  results.cleanup = {
    processes: expected,
    pidwarden: { ms: pw.ms, cpuMs: pw.cpuMs, peakMiB: pw.peakMiB, exit: pw.code, restart: pwRestart, processesAfter: pwAfter },
    shell: { ms: sh.ms, restart: shRestart },
    ratio,
    met,
  };
  row(`a. cleanup ${expected} procs`, `${figures(pw)}${pwRestart ? ' +restart' : ''}`, `${ms(sh.ms)}${shRestart ? ' +restart' : ''}`, ratio.toFixed(3), `<= 0.03, no restart: ${verdict(met)}`);
  docker('rm', '-f', 'bench-storm-pw', 'bench-storm-sh');
}
