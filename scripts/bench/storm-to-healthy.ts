// d. Time from the start of a 180-process storm to healthy under `monitor --interval 1`.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, docker, env, ms, OUT, processCount, results, row, startContainer, verdict, waitFor } from './common.ts';

export async function benchStormToHealthy(): Promise<void> {
  const log = join(OUT, 'monitor-storm.jsonl');
  rmSync(log, { force: true });
  const proc = Bun.spawn([BIN, 'monitor', '--label', 'pidwarden-bench-storm=1', '--interval', '1', '--grace', '1', '--log-file', log], {
    env,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  try {
    await Bun.sleep(1500);
    const t0 = performance.now();
    startContainer('bench-storm-mon', 60, { labels: ['pidwarden-bench-storm=1'] });
    let peak = 0;
    await waitFor(async () => {
      const n = await processCount('bench-storm-mon');
      peak = Math.max(peak, n);
      return peak > 15 && n <= 15;
    }, 60_000, 'storm to be cleaned');
    const elapsed = performance.now() - t0;
    const restarted = existsSync(log) && readFileSync(log, 'utf8').includes('"event":"restart"');
    results.stormToHealthy = { processesPeak: peak, ms: elapsed, restarted, met: elapsed <= 2000 };
    row('d. 180-process storm to healthy', ms(elapsed), '', `peak ${peak}${restarted ? ', restarted' : ''}`, `<= 2 s: ${verdict(elapsed <= 2000)}`);
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
    docker('rm', '-f', 'bench-storm-mon');
  }
}
