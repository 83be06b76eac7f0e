// g. The monitor soak: `monitor --interval 1` for 10 minutes (1 with PIDWARDEN_BENCH_QUICK=1)
// while containers come and go every 3 s: most healthy, every third a storm of 40 trees the
// monitor has to clean. RSS after the first minute (after 20 s in the quick run) against RSS at
// the end: a monitor that runs for weeks must not grow. RSS is sampled at every churn tick; each
// figure is the median of the ticks of WINDOW_S seconds, so that a storm being cleaned at the
// moment of one sample does not pass for growth (a single sample at the end read +1.9 MiB in one
// run, +9.4 MiB in the next, with peaks of 65.9 and 73.0 MiB).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, docker, env, mib, OUT, QUICK, removeContainers, results, row, rssKiB, startContainer, verdict } from './common.ts';

const SOAK_LABEL = 'pidwarden-bench-soak=1';
const SECONDS = QUICK ? 60 : 600;
const BASELINE_S = QUICK ? 20 : 60;
const WINDOW_S = QUICK ? 15 : 30;
const CHURN_MS = 3000;
/** Containers alive at once: the oldest goes when a new one would make more. */
const LIVE = 8;

export async function benchSoak(): Promise<void> {
  const log = join(OUT, 'monitor-soak.jsonl');
  rmSync(log, { force: true });
  // Heartbeats every 10 s: the log then shows RSS over the whole soak (rssBytes).
  const proc = Bun.spawn([BIN, 'monitor', '--label', SOAK_LABEL, '--interval', '1', '--grace', '1', '--heartbeat', '10', '--log-file', log], {
    env,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  const live: string[] = [];
  let created = 0;
  const samples: [number, number][] = []; // [seconds since start, RSS KiB]
  const t0 = Date.now();
  try {
    while (Date.now() - t0 < SECONDS * 1000) {
      const tick = Date.now();
      const storm = created % 3 === 2;
      const name = `bench-soak-${created++}`;
      startContainer(name, storm ? 40 : 3, { labels: [SOAK_LABEL] });
      live.push(name);
      if (live.length > LIVE) docker('rm', '-f', live.shift()!);
      samples.push([(Date.now() - t0) / 1000, rssKiB(proc.pid, 'VmRSS')]);
      await Bun.sleep(Math.max(0, CHURN_MS - (Date.now() - tick)));
    }
    const baseline = median(samples.filter(([t]) => t >= BASELINE_S && t < BASELINE_S + WINDOW_S).map(([, kib]) => kib));
    const end = median(samples.filter(([t]) => t >= SECONDS - WINDOW_S).map(([, kib]) => kib));
    const peak = rssKiB(proc.pid, 'VmHWM');
    const text = readFileSync(log, 'utf8');
    const cleaned = text.split('\n').filter((l) => l.includes('"event":"result"') && l.includes('"healthy":true')).length;
    const growth = (end - baseline) / 1024;
    const met = growth <= 2;
    const byMinute = Array.from({ length: Math.ceil(SECONDS / 60) }, (_, m) => median(samples.filter(([t]) => t >= m * 60 && t < (m + 1) * 60).map(([, kib]) => kib)) / 1024);
    // The live JS heap after each once-a-minute full collection (heartbeats' heapLiveBytes): flat
    // when pidwarden's own objects do not accumulate, whatever RSS does.
    const liveHeap = text
      .split('\n')
      .filter((l) => l.includes('"event":"heartbeat"') && l.includes('heapLiveBytes'))
      .map((l) => (JSON.parse(l) as { heapLiveBytes: number }).heapLiveBytes / 2 ** 20);
    const liveDistinct = liveHeap.filter((v, i) => i === 0 || v !== liveHeap[i - 1]);
    results.soak = { seconds: SECONDS, created, cleaned, rssAfterBaselineMiB: baseline / 1024, rssEndMiB: end / 1024, peakMiB: peak / 1024, growthMiB: growth, met, rssMedianByMinuteMiB: byMinute, heapLiveAfterFullGcMiB: liveDistinct };
    row(`g. monitor soak ${SECONDS / 60} min, churn every ${CHURN_MS / 1000} s`, `${created} containers, ${cleaned} storms cleaned`, '', `peak ${mib(peak / 1024)}`, 'reference');
    if (liveDistinct.length > 1) {
      const rise = liveDistinct.at(-1)! - liveDistinct[0]!;
      row('   live JS heap after each minute\'s full GC, first -> last', `${mib(liveDistinct[0]!)} -> ${mib(liveDistinct.at(-1)!)}`, '', `${rise >= 0 ? '+' : ''}${rise.toFixed(2)} MiB`, 'explains RSS');
    }
    row(`   RSS after ${BASELINE_S} s -> in the last ${WINDOW_S} s (medians)`, `${mib(baseline / 1024)} -> ${mib(end / 1024)}`, '', `${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MiB`, `<= +2 MiB: ${verdict(met)}`);
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
    removeContainers(SOAK_LABEL);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}
