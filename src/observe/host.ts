// Host figures for the report. Memory comes from systeminformation's mem(), which on Linux only
// reads /proc/meminfo. Load and CPU count come from node:os: systeminformation's currentLoad()
// and cpu() shell out (`cat /proc/stat | grep cpu`, lscpu), and pidwarden runs no host program.
import os from 'node:os';

export interface HostFigures {
  hostname: string;
  cpus: number;
  load: [number, number, number];
  memory: { totalBytes: number; availableBytes: number };
}

export async function readHost(): Promise<HostFigures> {
  let total = os.totalmem();
  let available = os.freemem();
  try {
    // Loaded on first use: only audit reports host figures, and the monitor's RSS stays lower.
    const { default: si } = await import('systeminformation');
    const m = await si.mem();
    if (m.total > 0) {
      total = m.total;
      available = m.available;
    }
  } catch {
    // os figures above stand; a missing /proc/meminfo must not fail the report
  }
  const [l1, l5, l15] = os.loadavg();
  return {
    hostname: os.hostname(),
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    load: [round2(l1 ?? 0), round2(l5 ?? 0), round2(l15 ?? 0)],
    memory: { totalBytes: total, availableBytes: available },
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
