/**
 * What the layout tests (test/integration/layouts.test.ts on this host, test/lanes/layouts.test.ts
 * on every lane) share: pidwarden's JSONL lines, the kernel's word on whether a process is dead,
 * and containers started with extra `docker run` options.
 */
import { expect } from 'bun:test';
import {
  RUN_ID,
  RUN_LABEL,
  cgroupProcs,
  docker,
  dockerOk,
  hostProcsOfContainer,
  parseJsonl,
  readHostProc,
  runPidwarden,
  type HostProc,
  type Workload,
} from './harness.ts';

export interface Line {
  event: string;
  step?: string;
  signal?: string;
  pids?: number[];
  hostPids?: number[];
  via?: string;
  depth?: number;
  pidfd?: boolean;
  dryRun?: boolean;
  reason?: string;
  [k: string]: unknown;
}

export const jsonl = (stdout: string): Line[] => parseJsonl<Line>(stdout);
export const kills = (lines: Line[]) => lines.filter((l) => l.event === 'kill');
export const signalledHostPids = (lines: Line[]) => new Set(kills(lines).flatMap((l) => l.hostPids ?? []));

/** Dead per the kernel: gone, its PID now someone else's, or a zombie. */
export function isDead(p: { hostPid: number; startTicks: number }): boolean {
  const now = readHostProc(p.hostPid);
  return now === null || now.startTicks !== p.startTicks || now.state === 'Z' || now.state === 'X';
}
export const isAlive = (p: { hostPid: number; startTicks: number }) => !isDead(p);
export const identity = (p: { hostPid: number; startTicks: number }) => `${p.hostPid}@${p.startTicks}`;
export const liveIdentities = (procs: HostProc[]) => procs.filter((p) => p.state !== 'Z').map(identity).sort();

// 60 s covers a loaded 2-core host many times over; a lane in a TCG VM passes its own (~10x slower).
export async function auditJson(args: string[], timeoutMs = 60_000): Promise<{ code: number; doc: any; stderr: string }> {
  const r = await runPidwarden(['audit', '--json', ...args], { timeoutMs });
  expect(r.timedOut).toBe(false);
  let doc: any;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`audit ${args.join(' ')}: exit ${r.code}, no JSON on stdout; stderr: ${r.stderr.trim() || '(empty)'}`);
  }
  return { code: r.code, doc, stderr: r.stderr };
}

export async function cleanup(args: string[], timeoutMs = 60_000): Promise<{ code: number; lines: Line[]; stderr: string }> {
  const r = await runPidwarden(['cleanup', ...args], { timeoutMs });
  expect(r.timedOut).toBe(false);
  return { code: r.code, lines: jsonl(r.stdout), stderr: r.stderr };
}

/** The container's live processes per the kernel: its cgroup's members (a shared namespace holds others too). */
export function cgroupMembers(w: Workload): HostProc[] {
  const members = new Set(cgroupProcs(w));
  return hostProcsOfContainer(w).filter((p) => members.has(p.hostPid));
}

/** A container from a test image with extra `docker run` options, PID 1 as given; removed with the run's others. */
export function runContainer(name: string, runArgs: string[], image: string, cmd: string[]): Workload {
  const full = `${RUN_ID}-layout-${name}`;
  const id = dockerOk('run', '-d', '--network', 'none', '--name', full, '--label', `${RUN_LABEL}=${RUN_ID}`, '--label', 'pidwarden-test=1', ...runArgs, image, ...cmd);
  const [status, pid] = dockerOk('inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id).split(' ');
  if (status !== 'running') throw new Error(`${full} is not running: ${docker('logs', id).stderr}`);
  return { id, name: full, initPid: Number(pid), image, plan: cmd };
}
