import { describe, expect, test } from 'bun:test';
import { health, type HealthFigures, type HealthVerdict } from '../../src/decide/health.ts';

const t = { maxProcs: 15, pidsRatio: 0.8 };
const f = (processes: number | null, tasks: number | null, pidsMax: number | null): HealthFigures => ({ processes, tasks, pidsMax });

describe('the one health rule', () => {
  const rows: [string, HealthFigures, HealthVerdict, string[]][] = [
    ['exactly max-procs', f(15, 40, 100), 'healthy', []],
    ['one process over', f(16, 40, 100), 'unhealthy', ['16 processes > max-procs 15']],
    ['tasks at ratio x max', f(3, 80, 100), 'unhealthy', ['pids.current 80 >= 0.8 x pids.max 100']],
    ['both crossed, processes first', f(20, 90, 100), 'unhealthy', ['20 processes > max-procs 15', 'pids.current 90 >= 0.8 x pids.max 100']],
    ['no limit: only processes count', f(10, 10_000, null), 'healthy', []],
    ['pids.max 0 admits no task', f(1, 1, 0), 'unhealthy', ['pids.current 1 >= 0.8 x pids.max 0']],
    ['processes unknown, tasks vouch for them (every process is a task)', f(null, 12, 100), 'healthy', []],
    ['processes unknown, tasks too many to vouch, no pressure', f(null, 40, 100), 'unknown', []],
    ['processes unknown, pressure', f(null, 90, 100), 'unhealthy', ['pids.current 90 >= 0.8 x pids.max 100']],
    ['nothing known', f(null, null, null), 'unknown', []],
    ['0.55 x 100 is 55.00000000000001 in binary: 55 is still pressure', f(1, 55, 100), 'unhealthy', ['pids.current 55 >= 0.55 x pids.max 100']],
  ];
  for (const [name, figures, verdict, reasons] of rows) {
    test(name, () => {
      const ratio = name.startsWith('0.55') ? { ...t, pidsRatio: 0.55 } : t;
      expect(health(figures, ratio)).toEqual({ verdict, reasons });
    });
  }
});
