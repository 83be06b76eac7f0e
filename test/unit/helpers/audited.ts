// AuditedContainer rows for the report tests: an observation plus the assessment decide/ makes of it.
import { assess } from '../../../src/decide/classify.ts';
import type { ContainerInfo } from '../../../src/engine/containers.ts';
import type { HostFigures } from '../../../src/observe/host.ts';
import type { ContainerObservation } from '../../../src/observe/observation.ts';
import type { AuditedContainer } from '../../../src/report/json.ts';
import type { PidsReading, ProcessTable } from '../../../src/types.ts';
import { metamcpProcs, proc } from './procs.ts';

export const HOST: HostFigures = {
  hostname: 'docker-host-1',
  cpus: 2,
  load: [0.52, 0.41, 0.3],
  memory: { totalBytes: 25_274_793_984, availableBytes: 20_000_000_000 },
};

export const THRESHOLDS = { maxProcs: 15, pidsRatio: 0.8, match: [/^npm exec /u], npxOrphans: true, protect: [] };

export function info(over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8',
    name: 'metamcp',
    image: 'ghcr.io/metatool-ai/metamcp:latest',
    state: 'running',
    labels: { 'com.docker.compose.service': 'metamcp' },
    initPid: 6811,
    running: true,
    pidMode: '',
    created: '2026-11-21T06:20:10.456789012Z',
    startedAt: '2026-11-21T06:20:11.123456789Z',
    finishedAt: '0001-01-01T00:00:00Z',
    user: '',
    ...over,
  };
}

export interface RowOptions {
  info?: Partial<ContainerInfo>;
  table?: ProcessTable | null;
  pids?: PidsReading;
  stats?: ContainerObservation['stats'];
  problems?: string[];
}

export function row(o: RowOptions = {}): AuditedContainer {
  const table = o.table === undefined ? { procs: metamcpProcs(), source: 'ps' as const, flavor: 'busybox' } : o.table;
  const pids = o.pids ?? { current: 199, max: 250, source: 'cgroup-v1' };
  const obs: ContainerObservation = {
    info: info(o.info),
    layout: { local: true, pidMode: '', sharedPidNamespace: false, nsDepth: 2, hostSignals: true },
    pids,
    cgroupDir: '/sys/fs/cgroup/pids/docker/db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8',
    table,
    stats:
      o.stats === undefined
        ? { cpuPercent: 12.5, memoryBytes: 708_608, memoryLimitBytes: 25_274_793_984, apiPids: { current: 199, max: 250 } }
        : o.stats,
    problems: o.problems ?? [],
  };
  return { obs, assessment: assess(table?.procs ?? null, pids, THRESHOLDS), policy: {} };
}

/** A small healthy container: PID 1 and one npm exec. */
export function quietRow(name: string, over: RowOptions = {}): AuditedContainer {
  return row({
    table: { procs: [proc(1, 0, 'node dist/index.js'), proc(7, 1, 'npm exec figma-mcp')], source: 'ps' },
    pids: { current: 20, max: 100, source: 'cgroup-v2' },
    ...over,
    info: { id: `${name}-${'0'.repeat(64)}`.slice(0, 64), name, ...over.info },
  });
}
