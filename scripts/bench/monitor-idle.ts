// c. The monitor on N healthy containers (3 trees, 10 processes each, under --max-procs 15) at
// --interval 0.25: CPU per container-cycle, peak RSS and RSS growth of the monitor process.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cpuMsOf, env, lastCycles, mib, OUT, QUICK, results, row, rssKiB, verdict } from './common.ts';

export interface MonitorFigures {
  cycles: number;
  cpuMs: number;
  msPerContainerCycle: number;
  peakMiB: number;
  growthMiB: number;
}

/** One monitor run of `seconds` after a 2 s start-up (start-up and the first inspects are not the steady state). */
export async function monitorFigures(o: { label: string; containers: number; seconds: number; bin?: string; extraEnv?: Record<string, string> }): Promise<MonitorFigures> {
  const log = join(OUT, `monitor-idle-${o.containers}.jsonl`);
  rmSync(log, { force: true });
  const proc = Bun.spawn(
    [o.bin ?? BIN, 'monitor', '--label', o.label, '--interval', '0.25', '--heartbeat', String(Math.max(1, o.seconds / 3)), '--log-file', log],
    { env: { ...env, ...o.extraEnv }, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
  );
  try {
    await Bun.sleep(2000);
    const t0 = cpuMsOf(proc.pid);
    const rss0 = rssKiB(proc.pid, 'VmRSS');
    const cycles0 = lastCycles(log);
    await Bun.sleep(o.seconds * 1000);
    const cpuMs = cpuMsOf(proc.pid) - t0;
    const rss1 = rssKiB(proc.pid, 'VmRSS');
    const hwm = rssKiB(proc.pid, 'VmHWM');
    const cycles = Math.max(1, lastCycles(log) - cycles0);
    return { cycles, cpuMs, msPerContainerCycle: cpuMs / (cycles * o.containers), peakMiB: hwm / 1024, growthMiB: (rss1 - rss0) / 1024 };
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
}

export async function benchMonitorIdle(tag: string, containers: number, label: string): Promise<MonitorFigures> {
  const seconds = QUICK ? 8 : 30;
  const f = await monitorFigures({ label, containers, seconds });
  const cpuMet = f.msPerContainerCycle <= 0.2;
  results[`monitorIdle${containers}`] = { containers, seconds, ...f, met: cpuMet && (containers > 30 || f.peakMiB <= 64) };
  row(`${tag}. monitor ${containers} containers, CPU per container-cycle`, `${f.msPerContainerCycle.toFixed(3)} ms`, '', `${f.cycles} cycles`, `<= 0.2 ms: ${verdict(cpuMet)}`);
  row('   peak RSS', mib(f.peakMiB), '', '', containers <= 30 ? `<= 64 MiB: ${verdict(f.peakMiB <= 64)}` : 'reference');
  row('   RSS growth', `${f.growthMiB.toFixed(2)} MiB`, '', `over ${seconds} s`, `none (< 1 MiB): ${verdict(f.growthMiB <= 1)}`);
  return f;
}
