// What every bench scenario shares: the environment, running pidwarden and docker, the workload
// containers, waiting for a condition, /proc figures of a running process, and the result table.
import { mkdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findPidsCgroup } from '../../src/observe/cgroup.ts';
import { containerHostPids } from '../../src/observe/host-proc.ts';
import { parseNsPid } from '../../src/observe/proc-stat.ts';

export const ROOT = resolve(import.meta.dir, '..', '..');
export const BIN = join(ROOT, 'dist', 'pidwarden');
export const OUT = join(ROOT, '.tmp', 'bench');
export const DOCKER_HOST = process.env.DOCKER_HOST ?? '';
export const IMAGE = 'pidwarden-test/busybox';
export const LABEL = 'pidwarden-bench=1';
/** Scale down for a quick look: PIDWARDEN_BENCH_QUICK=1 (figures are then not comparable to targets). */
export const QUICK = process.env.PIDWARDEN_BENCH_QUICK === '1';

mkdirSync(OUT, { recursive: true });
// The bench's own state file (restart history, ladder locks), never the host's /var/lib/pidwarden.
export const env = { ...process.env, DOCKER_HOST, PIDWARDEN_STATE_FILE: join(OUT, 'state', 'state.json') } as Record<string, string>;

export interface RunResult {
  code: number;
  out: string;
  err: string;
  ms: number;
  /** CPU time of the program (user + system). */
  cpuMs: number;
  /** The program's peak RSS in MiB. */
  peakMiB: number;
}

/**
 * `argv` under GNU time, which reports the program's own ru_maxrss and CPU. Not this process's
 * wait4 rusage: Linux carries the parent's RSS high-water mark over an exec (exec_mmap), so a
 * child of this bench (80+ MiB by the 200-container rows) never reported less than that (measured:
 * four different commands, each "82.9 MiB"). GNU time's own few MiB are what its child inherits.
 */
export function timed(argv: string[]): { argv: string[]; usage: () => { cpuMs: number; peakMiB: number } } {
  const file = join(OUT, `time-${process.pid}-${++timedRuns}.txt`);
  return {
    argv: ['/usr/bin/time', '-f', '%M %U %S', '-o', file, ...argv],
    usage: () => {
      const [kib, user, sys] = readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      rmSync(file, { force: true });
      return { cpuMs: (user! + sys!) * 1000, peakMiB: kib! / 1024 };
    },
  };
}
let timedRuns = 0;

export function run(argv: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): RunResult {
  const t = timed(argv);
  const t0 = performance.now();
  const r = Bun.spawnSync(t.argv, { env: opts.env ?? env, stdout: 'pipe', stderr: 'pipe', timeout: opts.timeoutMs ?? 600_000 });
  const ms = performance.now() - t0;
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString(), ms, ...t.usage() };
}

/** The fastest of `times` runs: the one least disturbed by the other load on the machine. `envOf`: each run's own environment. */
export function best(argv: string[], times = 3, envOf?: () => Record<string, string>): RunResult {
  return Array.from({ length: times }, () => run(argv, envOf ? { env: envOf() } : {})).reduce((a, b) => (b.ms < a.ms ? b : a));
}

export function docker(...args: string[]): string {
  const r = run(['docker', ...args]);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.err.trim()}`);
  return r.out.trim();
}

export function removeContainers(label: string): void {
  const ids = docker('ps', '-aq', '--filter', `label=${label}`).split(/\s+/).filter(Boolean);
  // In slices of 50: dockerd removes each slice concurrently, and a slice ends well within the timeout.
  for (let i = 0; i < ids.length; i += 50) run(['docker', 'rm', '-f', ...ids.slice(i, i + 50)]);
}

export interface WorkloadOptions {
  labels?: string[];
  /** Threads of PID 1, of each npm and of each node (fakenode --threads). */
  threads?: string;
  pidsLimit?: number;
  /** Seconds between two tree starts inside the container. */
  interval?: number;
}

/** A MetaMCP-like container: PID 1 app, `trees` npm exec chains (npm -> sh -c -> node). */
export function startContainer(name: string, trees: number, o: WorkloadOptions = {}): string {
  return docker(...runArgs(name, trees, o));
}

/** `docker run` arguments of a workload container (startContainer). */
export function runArgs(name: string, trees: number, o: WorkloadOptions = {}): string[] {
  const specs = ['-y @21st-dev/magic@latest', 'ruv-swarm mcp start', 'figma-mcp'];
  const plan = [`--interval=${o.interval ?? 0.002}`, `--threads=${o.threads ?? '2,2,2'}`, '--reap=own', '--sh=fake', '--quiet'];
  // Round-robin over three packages: duplicates of each, started at different times.
  const per = Math.ceil(trees / specs.length);
  let left = trees;
  for (const s of specs) {
    const n = Math.min(per, left);
    left -= n;
    if (n > 0) plan.push(`tree/x${n}=${s}`);
  }
  const args = ['run', '-d', '--network', 'none', '--name', name, '--label', LABEL];
  for (const l of o.labels ?? []) args.push('--label', l);
  if (o.pidsLimit !== undefined) args.push('--pids-limit', String(o.pidsLimit));
  args.push('-e', `FAKENODE_ARGS=${plan.join('\n')}`, IMAGE, 'dist/index.js');
  return args;
}

/** docker, without blocking this process: for calls that should overlap. */
export async function dockerAsync(...args: string[]): Promise<string> {
  const p = Bun.spawn(['docker', ...args], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`docker ${args.join(' ')}: ${err.trim()}`);
  return out.trim();
}

/** The container's processes as the kernel counts them (cgroup members and their zombies). */
export async function processCount(name: string): Promise<number> {
  const { pid, dir } = await pidsCgroupOf(name);
  const layout = { sharedPidNamespace: false, nsDepth: parseNsPid(readFileSync(`/proc/${pid}/status`, 'utf8'))?.length ?? 0, pidNamespace: readlinkSync(`/proc/${pid}/ns/pid`) };
  return (await containerHostPids(dir, '/proc', layout)).length;
}

/**
 * The container's pids.current, read as often as wanted: one small file, where processCount scans
 * the host's /proc for zombies (~20 ms with 5,000 processes on the host, a poll of its own that
 * would compete with what it measures). Tasks, not processes: the same when every process has one
 * thread (WorkloadOptions.threads '1,1,1'); zombies count until reaped.
 */
export async function tasksCounter(name: string): Promise<() => number> {
  const { dir } = await pidsCgroupOf(name);
  return () => Number(readFileSync(`${dir}/pids.current`, 'utf8').trim());
}

async function pidsCgroupOf(name: string): Promise<{ pid: number; dir: string }> {
  const [pid, id] = docker('inspect', '-f', '{{.State.Pid}} {{.Id}}', name).split(' ');
  const cg = await findPidsCgroup(Number(pid), id!, { procRoot: '/proc' });
  if (!cg) throw new Error(`no cgroup for ${name}`);
  return { pid: Number(pid), dir: cg.dir };
}

export async function waitFor(pred: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await Bun.sleep(pollMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** CPU time of a running process in ms (utime + stime, fields 14 and 15; USER_HZ = 100). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

export function rssKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** The monitor's heartbeat lines count cycles; the last one seen so far. */
export function lastCycles(log: string): number {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return 0;
  }
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.includes('"heartbeat"')) continue;
    try {
      n = Number(JSON.parse(line).cycles ?? n);
    } catch {
      // a line being written
    }
  }
  return n;
}

export const results: Record<string, unknown> = { quick: QUICK, when: new Date().toISOString(), cpus: navigator.hardwareConcurrency };
export type Row = [string, string, string, string, string];
export const rows: Row[] = [];
export function row(name: string, ours: string, theirs: string, ratioOrFigure: string, target: string): void {
  rows.push([name, ours, theirs, ratioOrFigure, target]);
}

export function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}
export function mib(n: number): string {
  return `${n.toFixed(1)} MiB`;
}
/** Wall, CPU and peak RSS of one pidwarden run, for the table. */
export function figures(r: RunResult): string {
  return `${ms(r.ms)}, cpu ${ms(r.cpuMs)}, ${mib(r.peakMiB)}`;
}
export function verdict(ok: boolean): string {
  return ok ? 'MET' : 'NOT MET';
}

export function printTable(): void {
  const header: Row = ['measure', 'pidwarden', 'shell way', 'ratio / figure', 'target'];
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) console.log(r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ').trimEnd());
}
