/**
 * Helpers for integration tests that run against the REAL private Docker
 * engine started by scripts/test.sh (PIDWARDEN_TEST_DOCKER_HOST).
 *
 * Everything here runs programs with argv arrays (Bun.spawn / Bun.spawnSync),
 * never through a shell, and reads the kernel's own view of processes from
 * the host's /proc and the container's cgroup files, so tests can compare
 * pidwarden's numbers with the truth.
 *
 * Images (built by scripts/test-images.sh): IMAGES.busybox / toybox / procps / nops, and HANGPS_IMAGE.
 * Workload: test/workload/fakenode.c (plan syntax in its header comment).
 */
import { afterAll, describe, test } from 'bun:test';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

// ------------------------------------------------------------------ paths

export const REPO_ROOT = resolve(import.meta.dir, '..', '..');
export const PIDWARDEN_BIN = join(REPO_ROOT, 'dist', 'pidwarden');
export const WORKLOAD_BIN = join(REPO_ROOT, '.tmp', 'workload', 'bin', 'fakenode');
/** where host trees started by startHostTree are recorded (scripts/test.sh kills leftovers) */
export const HOST_TREES_FILE = join(REPO_ROOT, '.tmp', 'host-trees');

export const IMAGES = {
  busybox: 'pidwarden-test/busybox',
  toybox: 'pidwarden-test/toybox',
  procps: 'pidwarden-test/procps',
  nops: 'pidwarden-test/nops',
} as const;
/** BusyBox, but `ps` blocks forever (scripts/test-images.sh); not in IMAGES: no ps test can run on it. */
export const HANGPS_IMAGE = 'pidwarden-test/hangps';
export type ImageName = keyof typeof IMAGES;

/** Unique per test process: prefix of container names, value of the run label. */
export const RUN_ID = `pwt-${randomBytes(3).toString('hex')}`;
export const RUN_LABEL = 'pidwarden-test.run';

// ------------------------------------------------------------------ engine

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function engineHost(): string | null {
  const h = process.env.PIDWARDEN_TEST_DOCKER_HOST;
  return h && h.trim() !== '' ? h.trim() : null;
}

function detectEngine(): { host: string | null; available: boolean; reason: string } {
  const host = engineHost();
  if (!host) return { host, available: false, reason: 'PIDWARDEN_TEST_DOCKER_HOST is not set (run the suite with `npm test`)' };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DOCKER_CONTEXT') env[k] = v;
  const r = Bun.spawnSync(['docker', 'version', '--format', '{{.Server.Version}}'], {
    env: { ...env, DOCKER_HOST: host },
    stdout: 'pipe',
    stderr: 'pipe',
    // a socket-activated Podman in a loaded VM lane answered its first call after more than 15 s
    timeout: 60_000,
  });
  if (r.exitCode !== 0) {
    return { host, available: false, reason: `docker version against ${host} failed: ${r.stderr.toString().trim()}` };
  }
  return { host, available: true, reason: `engine ${r.stdout.toString().trim()} at ${host}` };
}

/** The private engine: `host` is a DOCKER_HOST value (unix://...). */
export const engine = detectEngine();

/**
 * What answers at PIDWARDEN_TEST_DOCKER_HOST: `docker` (dockerd) or `podman` (its
 * Docker-compatible API), as scripts/test.sh says per lane; tests spell out where the two differ.
 */
export const ENGINE_KIND: 'docker' | 'podman' = process.env.PIDWARDEN_TEST_ENGINE_KIND === 'podman' ? 'podman' : 'docker';

/**
 * `docker run` options every container needs on this engine. Podman in this sandbox cannot raise
 * rlimits past its service's own: without these its runtime fails "setrlimit RLIMIT_NOFILE:
 * operation not permitted" (scripts/podman.sh also sets them as containers.conf defaults).
 */
export const ENGINE_RUN_ARGS: readonly string[] =
  ENGINE_KIND === 'podman' ? ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'] : [];

/**
 * describe() that needs the engine.  Without one: under CI=true a describe
 * whose single test fails with "Docker engine not available (CI=true)";
 * otherwise the block is reported as skipped.  Containers and host trees of
 * this run are removed after the block.
 */
export function describeEngine(name: string, fn: () => void): void {
  if (engine.available) {
    describe(name, () => {
      // removing a few workload containers takes 5-20 s in a VM lane (QEMU TCG, scripts/vm-lane.sh)
      afterAll(() => removeAll(), 120_000);
      fn();
    });
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('Docker engine available', () => {
        console.error(`[harness] ${engine.reason}`);
        throw new Error('Docker engine not available (CI=true)');
      });
    });
  } else {
    describe.if(false)(name, fn);
  }
}

function requireHost(): string {
  if (!engine.host) throw new Error('PIDWARDEN_TEST_DOCKER_HOST is not set: refusing to use the default Docker engine');
  return engine.host;
}

/** process.env pointed at the private engine only (no context/TLS settings of the user's) */
function dockerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'].includes(k)) env[k] = v;
  }
  return { ...env, DOCKER_HOST: requireHost(), ...extra };
}

/** Runs the docker CLI against the private engine (synchronously). Never throws on exit status. */
export function docker(...args: string[]): RunResult {
  return dockerWith(args);
}

export function dockerWith(args: string[], opts: { timeoutMs?: number; stdin?: string } = {}): RunResult {
  const r = Bun.spawnSync(['docker', ...args], {
    env: dockerEnv(),
    stdin: opts.stdin !== undefined ? Buffer.from(opts.stdin) : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  const timedOut = r.exitedDueToTimeout === true;
  return {
    code: r.signalCode !== undefined && r.signalCode !== null ? 137 : r.exitCode,
    stdout: r.stdout?.toString() ?? '',
    stderr: r.stderr?.toString() ?? '',
    timedOut,
  };
}

/** docker(...) that throws (with stderr) on a non-zero exit; returns trimmed stdout. */
export function dockerOk(...args: string[]): string {
  const r = docker(...args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

// -------------------------------------------------------------- workloads

export interface TreeSpec {
  /** what follows `npx`, e.g. "-y @21st-dev/magic@latest", or "npm x cowsay" */
  npx: string;
  copies?: number;
  /** every process of the chain ignores SIGTERM */
  noterm?: boolean;
  /** threads of the npm and the node process of this chain */
  threads?: number;
  bin?: string;
}

export interface ProcSpec {
  argv: string[];
  copies?: number;
  noterm?: boolean;
  threads?: number;
  /** prctl(PR_SET_NAME), max 15 bytes; no '/' or '=' */
  comm?: string;
  uid?: number;
  nice?: number;
  /** SIGSTOP itself (state T) */
  stop?: boolean;
}

export interface WorkloadOptions {
  /** ImageName ('busybox' ...) or a full tag */
  image: ImageName | string;
  /** container name suffix (the name is always `${RUN_ID}-<n>-<name>`) */
  name?: string;
  labels?: Record<string, string>;
  pidsLimit?: number;
  /** npm exec chains; a string is TreeSpec.npx */
  trees?: Array<string | TreeSpec>;
  procs?: ProcSpec[];
  /** the built-in catalogue of odd processes (UTF-8 argv, evil comm, newline, 400-char arg, stopped, ...) */
  odd?: boolean;
  /** seconds between two starts (default 0.2) */
  interval?: number;
  /** true = 'all' (reap everything), false = 'none' (zombies accumulate); default 'own' (like Node) */
  reap?: boolean | 'all' | 'own' | 'none';
  /** with reap 'own': a dead child is reaped only after this many seconds as a zombie (a Node app whose event loop is busy) */
  reapDelay?: number;
  respawn?: boolean;
  respawnDelay?: number;
  /** total threads of PID 1, each npm, each node server (default 11, 11, 7) */
  threads?: number | { app: number; npm: number; node: number };
  sh?: 'auto' | 'fake' | 'real';
  /** pass the plan as PID 1's arguments instead of FAKENODE_ARGS (forced when an element has a newline) */
  planOnCommandLine?: boolean;
  /** more `docker run` options (before the image) */
  runArgs?: string[];
}

export interface Workload {
  id: string;
  name: string;
  /** host pid of the container's PID 1 */
  initPid: number;
  image: string;
  /** the fakenode arguments used */
  plan: string[];
}

let containerSeq = 0;

function checkMod(kind: string, v: string): string {
  if (/[/=]/.test(v)) throw new Error(`${kind} must not contain '/' or '=': ${JSON.stringify(v)}`);
  return v;
}

/** fakenode arguments for the options (see test/workload/fakenode.c). */
export function workloadPlan(o: Omit<WorkloadOptions, 'image'>): string[] {
  const plan: string[] = [`--interval=${o.interval ?? 0.2}`];
  if (o.reap !== undefined) plan.push(`--reap=${o.reap === true ? 'all' : o.reap === false ? 'none' : o.reap}`);
  if (o.reapDelay !== undefined) plan.push(`--reap-delay=${o.reapDelay}`);
  if (o.respawn) plan.push('--respawn');
  if (o.respawnDelay !== undefined) plan.push(`--respawn-delay=${o.respawnDelay}`);
  if (o.threads !== undefined) {
    plan.push(typeof o.threads === 'number' ? `--threads=${o.threads}` : `--threads=${o.threads.app},${o.threads.npm},${o.threads.node}`);
  }
  if (o.sh) plan.push(`--sh=${o.sh}`);
  for (const t0 of o.trees ?? []) {
    const t: TreeSpec = typeof t0 === 'string' ? { npx: t0 } : t0;
    let mods = '';
    if (t.copies !== undefined) mods += `/x${t.copies}`;
    if (t.noterm) mods += '/noterm';
    if (t.threads !== undefined) mods += `/threads:${t.threads}`;
    if (t.bin !== undefined) mods += `/bin:${checkMod('bin', t.bin)}`;
    plan.push(`tree${mods}=${t.npx}`);
  }
  for (const p of o.procs ?? []) {
    if (p.argv.length === 0) throw new Error('proc needs an argv');
    let mods = '';
    if (p.copies !== undefined) mods += `/x${p.copies}`;
    if (p.noterm) mods += '/noterm';
    if (p.threads !== undefined) mods += `/threads:${p.threads}`;
    if (p.comm !== undefined) mods += `/comm:${checkMod('comm', p.comm)}`;
    if (p.uid !== undefined) mods += `/uid:${p.uid}`;
    if (p.nice !== undefined) mods += `/nice:${p.nice}`;
    if (p.stop) mods += '/stop';
    const sep = ['\x1f', '|', '\x1e', '\x01'].find((c) => !p.argv.some((a) => a.includes(c)));
    if (!sep) throw new Error('no separator character available for this argv');
    plan.push(`proc${mods}=${sep}${p.argv.join(sep)}`);
  }
  if (o.odd) plan.push('odd');
  return plan;
}

/** The PIDs (in the container) of the trees the workload's app says it started (its log: `fakenode: started tree LABEL pid=N`). */
export function startedTreePids(w: Workload): number[] {
  const r = docker('logs', w.id);
  return [...r.stdout.matchAll(/^fakenode: started tree .* pid=(\d+)$/gm)].map((m) => Number(m[1]));
}

/** Starts a workload container (always --network none) and returns once it runs. */
export async function startWorkload(o: WorkloadOptions): Promise<Workload> {
  const image = (IMAGES as Record<string, string>)[o.image] ?? o.image;
  const name = `${RUN_ID}-${++containerSeq}${o.name ? `-${o.name}` : ''}`;
  const plan = workloadPlan(o);
  const onCmdLine = o.planOnCommandLine || plan.some((a) => a.includes('\n'));
  const args = ['run', '-d', '--network', 'none', '--name', name, '--hostname', 'metamcp', '--label', `${RUN_LABEL}=${RUN_ID}`, '--label', 'pidwarden-test=1'];
  for (const [k, v] of Object.entries(o.labels ?? {})) args.push('--label', `${k}=${v}`);
  if (o.pidsLimit !== undefined) args.push('--pids-limit', String(o.pidsLimit));
  if (!onCmdLine) args.push('-e', `FAKENODE_ARGS=${plan.join('\n')}`);
  args.push(...ENGINE_RUN_ARGS, ...(o.runArgs ?? []), image, 'dist/index.js');
  if (onCmdLine) args.push(...plan);
  const id = dockerOk(...args);
  // `docker run -d` returns once the container has started
  const r = docker('inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id);
  const [status, pid] = r.stdout.trim().split(' ');
  if (status !== 'running' || !(Number(pid) > 0)) {
    const logs = docker('logs', id);
    throw new Error(`container ${name} is not running (${r.stdout.trim()}${r.stderr.trim()}): ${logs.stdout}${logs.stderr}`);
  }
  return { id, name, initPid: Number(pid), image, plan };
}

/** Removes every container of this test process (and kills its host trees). */
export function removeAll(): void {
  if (engine.host) {
    const ids = docker('ps', '-aq', '--filter', `label=${RUN_LABEL}=${RUN_ID}`).stdout.split(/\s+/).filter(Boolean);
    // Containers in another's PID namespace (--pid=container:X) go first, then the rest. Removed
    // together, X's init can die first: the kernel then kills the joiner's processes under runc's
    // own kill, runc fails ("exit status 255"), and once, in a loaded cgroup v2 VM lane, every
    // later `docker run` of Docker 20.10 timed out (its log silent from that removal on).
    const joiners = ids.length === 0 ? [] : docker('inspect', '-f', '{{.Id}} {{.HostConfig.PidMode}}', ...ids).stdout.split('\n')
      .filter((l) => / container:/.test(l))
      .map((l) => l.split(' ')[0]!);
    if (joiners.length > 0) docker('rm', '-f', '-v', ...joiners);
    const rest = ids.filter((id) => !joiners.some((j) => j.startsWith(id)));
    if (rest.length > 0) docker('rm', '-f', '-v', ...rest);
  }
  killHostTrees();
}

// ---------------------------------------------------------- kernel truth

export interface HostProc {
  /** pid on the host */
  hostPid: number;
  hostPpid: number;
  /** pid inside the container (last NSpid entry); equals hostPid for host processes */
  pid: number;
  /** parent pid inside the container; 0 when the parent is outside (PID 1, docker exec) */
  ppid: number;
  nspid: number[];
  /** field 3 of /proc/<pid>/stat: R S D Z T t X I */
  state: string;
  /** field 2 of stat (between the first '(' and the last ')') */
  comm: string;
  /** /proc/<pid>/cmdline without trailing NULs, split at NULs ([] for zombies) */
  argv: string[];
  /** raw /proc/<pid>/cmdline bytes */
  cmdline: Buffer;
  /** num_threads (stat field 20) */
  threads: number;
  /** starttime, clock ticks since boot (stat field 22) */
  startTicks: number;
  pgid: number;
  sid: number;
  nice: number;
  uid: number;
  /** listed in the container cgroup's cgroup.procs (zombies are not) */
  inCgroupProcs: boolean;
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** Reads one process from the host's /proc (null when it is gone). */
export function readHostProc(hostPid: number): Omit<HostProc, 'pid' | 'ppid' | 'inCgroupProcs'> | null {
  const stat = readText(`/proc/${hostPid}/stat`);
  const status = readText(`/proc/${hostPid}/status`);
  if (stat === null || status === null) return null;
  let cmdline: Buffer;
  try {
    cmdline = readFileSync(`/proc/${hostPid}/cmdline`);
  } catch {
    cmdline = Buffer.alloc(0);
  }
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  const f = stat.slice(close + 2).trim().split(' '); // f[0] = field 3 (state)
  const field = (n: number) => Number(f[n - 3]);
  const line = (k: string) => status.split('\n').find((l) => l.startsWith(`${k}:`))?.slice(k.length + 1).trim() ?? '';
  let end = cmdline.length;
  while (end > 0 && cmdline[end - 1] === 0) end--;
  const argv = end === 0 ? [] : cmdline.subarray(0, end).toString('utf8').split('\0');
  const nspid = line('NSpid').split(/\s+/).filter(Boolean).map(Number);
  return {
    hostPid,
    hostPpid: field(4),
    nspid: nspid.length > 0 ? nspid : [hostPid],
    state: f[0] ?? '?',
    comm,
    argv,
    cmdline,
    threads: field(20),
    startTicks: field(22),
    pgid: field(5),
    sid: field(6),
    nice: field(19),
    uid: Number(line('Uid').split(/\s+/)[0]),
  };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** host pid of the container's PID 1 (inspects every time: it changes on restart) */
export function initPidOf(c: string | Workload): number {
  const id = typeof c === 'string' ? c : c.id;
  const pid = Number(dockerOk('inspect', '-f', '{{.State.Pid}}', id));
  if (!(pid > 0)) throw new Error(`container ${id} is not running`);
  return pid;
}

/**
 * The container's cgroup directory on the host for a controller ('pids' by
 * default), from /proc/<init>/cgroup (v1 line of that controller, else the
 * v2 `0::` line) and the matching mount in /proc/self/mountinfo.
 */
export function cgroupDir(c: string | Workload, controller = 'pids'): string {
  const init = initPidOf(c);
  const lines = (readText(`/proc/${init}/cgroup`) ?? '').split('\n').filter(Boolean);
  const mounts = (readText('/proc/self/mountinfo') ?? '').split('\n').filter(Boolean).map((l) => {
    const [pre, post] = l.split(' - ');
    const a = (pre ?? '').split(' ');
    const b = (post ?? '').split(' ');
    return { root: unescapeMount(a[3] ?? ''), point: unescapeMount(a[4] ?? ''), fstype: b[0] ?? '', superOpts: (b[2] ?? '').split(',') };
  });
  const join2 = (root: string, point: string, path: string) => {
    const rel = root === '/' ? path : path.startsWith(`${root}/`) || path === root ? path.slice(root.length) : null;
    return rel === null ? null : `${point}${rel === '/' ? '' : rel}`;
  };
  for (const l of lines) {
    const [, ctrls, path] = l.match(/^\d+:([^:]*):(.*)$/) ?? [];
    if (ctrls === undefined || path === undefined || ctrls === '') continue;
    if (!ctrls.split(',').includes(controller)) continue;
    for (const m of mounts) {
      if (m.fstype !== 'cgroup' || !m.superOpts.includes(controller)) continue;
      const d = join2(m.root, m.point, path);
      if (d && existsSync(d)) return d;
    }
  }
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
  if (v2 !== undefined) {
    for (const m of mounts) {
      if (m.fstype !== 'cgroup2') continue;
      const d = join2(m.root, m.point, v2);
      if (d && existsSync(d)) return d;
    }
  }
  throw new Error(`no ${controller} cgroup directory found for container ${typeof c === 'string' ? c : c.name}`);
}

/** pids listed in the container's cgroup.procs (host pids; zombies are NOT listed) */
export function cgroupProcs(c: string | Workload): number[] {
  return (readText(join(cgroupDir(c), 'cgroup.procs')) ?? '').split('\n').filter(Boolean).map(Number);
}

/** pids.current / pids.max of the container (max: a number or 'max') */
export function pidsFiles(c: string | Workload): { current: number; max: number | 'max'; dir: string } {
  const dir = cgroupDir(c, 'pids');
  const cur = Number((readText(join(dir, 'pids.current')) ?? '').trim());
  const maxS = (readText(join(dir, 'pids.max')) ?? '').trim();
  return { current: cur, max: maxS === 'max' ? 'max' : Number(maxS), dir };
}

/**
 * Every process of the container as the kernel sees it: the union of the
 * cgroup's cgroup.procs and of all host processes in the container's PID
 * namespace (that second scan is what finds zombies, which have left
 * cgroup.procs but still count in pids.current).  Sorted by container pid.
 */
export function hostProcsOfContainer(c: string | Workload): HostProc[] {
  const init = initPidOf(c);
  const inProcs = new Set(cgroupProcs(c));
  const ns = readlinkSync(`/proc/${init}/ns/pid`);
  const pids = new Set<number>(inProcs);
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) === ns) pids.add(Number(e));
    } catch {
      /* gone or kernel thread */
    }
  }
  const raw = [...pids].map(readHostProc).filter((p): p is NonNullable<typeof p> => p !== null);
  const byHost = new Map(raw.map((p) => [p.hostPid, p]));
  return raw
    .map((p) => ({
      ...p,
      pid: p.nspid[p.nspid.length - 1] ?? p.hostPid,
      ppid: p.hostPid === init ? 0 : (() => {
        const parent = byHost.get(p.hostPpid);
        return parent ? (parent.nspid[parent.nspid.length - 1] ?? 0) : 0;
      })(),
      inCgroupProcs: inProcs.has(p.hostPid),
    }))
    .sort((a, b) => a.pid - b.pid);
}

export interface Chain {
  npm: HostProc;
  sh?: HostProc;
  node?: HostProc;
}

/** true for a retitled npm process (`npm exec ...` / `npm x ...`), also as a zombie */
export function isNpm(p: HostProc): boolean {
  return p.comm.startsWith('npm ') || (p.argv[0] ?? '').startsWith('npm ');
}

/** npm -> sh -> node chains found in a process list (by parent links) */
export function npmChains(procs: HostProc[]): Chain[] {
  return procs.filter(isNpm).map((npm) => {
    const sh = procs.find((p) => p.ppid === npm.pid && p.comm === 'sh' && npm.pid !== 0);
    const node = sh ? procs.find((p) => p.ppid === sh.pid && p.comm === 'node') : undefined;
    return { npm, sh, node };
  });
}

/** complete, live chains (npm, sh and node all present and not zombies) */
export function liveChains(procs: HostProc[]): Chain[] {
  return npmChains(procs).filter((c) => c.npm.state !== 'Z' && c.sh && c.sh.state !== 'Z' && c.node && c.node.state !== 'Z' && c.node.argv[0] === 'node');
}

/** waits until the container has at least `n` complete live chains; returns the processes */
export async function waitForChains(c: string | Workload, n: number, timeoutMs = 20_000): Promise<HostProc[]> {
  return waitFor(() => {
    const procs = hostProcsOfContainer(c);
    return liveChains(procs).length >= n ? procs : null;
  }, timeoutMs, 100, `${n} npm exec chains`);
}

/**
 * As waitForChains, and every thread of a workload with the default thread counts (PID 1 11, each
 * npm 11, each node 7) started: pids.current counts threads, and a process starts its threads
 * after its exec. A cleanup test that read pids.current as soon as the 6 chains were there read
 * 120, and pidwarden, a moment later, the 125 of the finished workload.
 */
export async function waitForChainsAndThreads(c: string | Workload, n: number, timeoutMs = 20_000): Promise<HostProc[]> {
  return waitFor(() => {
    const procs = hostProcsOfContainer(c);
    const chains = liveChains(procs);
    const started = procs.find((p) => p.pid === 1)?.threads === 11 && chains.every((ch) => ch.npm.threads === 11 && ch.node!.threads === 7);
    return chains.length >= n && started ? procs : null;
  }, timeoutMs, 100, `${n} npm exec chains, each with all its threads`);
}

/**
 * Stops or starts the private dockerd under a test (scripts/engine.sh through
 * PIDWARDEN_TEST_ENGINE_CTL; live-restore keeps the containers running meanwhile).
 */
export function engineCtl(cmd: 'stop-daemon' | 'start-daemon' | 'status'): { code: number; out: string } {
  const script = process.env.PIDWARDEN_TEST_ENGINE_CTL;
  if (!script) throw new Error('PIDWARDEN_TEST_ENGINE_CTL is not set (run the suite with `npm test`)');
  const r = Bun.spawnSync(['bash', script, cmd], { stdout: 'pipe', stderr: 'pipe', timeout: 90_000 });
  return { code: r.exitCode ?? 137, out: `${r.stdout.toString()}${r.stderr.toString()}`.trim() };
}

// -------------------------------------------------------- host processes

export interface HostTree {
  npm: number;
  sh: number;
  node: number;
  pgid: number;
}

const hostTrees: HostTree[] = [];

/**
 * Starts one npm exec chain ON THE HOST (detached, own session), e.g.
 * startHostTree('-y @21st-dev/magic@latest').  Killed by removeAll()/killHostTrees().
 */
export function startHostTree(
  words: string,
  opts: { threads?: number | [number, number]; noterm?: boolean; sh?: 'fake' | 'real'; bin?: string; title?: string } = {},
): HostTree {
  if (!existsSync(WORKLOAD_BIN)) throw new Error(`${WORKLOAD_BIN} missing: run scripts/build-workload.sh`);
  const args = [WORKLOAD_BIN, 'tree'];
  if (opts.threads !== undefined) args.push(`--threads=${Array.isArray(opts.threads) ? opts.threads.join(',') : opts.threads}`);
  if (opts.noterm) args.push('--noterm');
  if (opts.sh) args.push(`--sh=${opts.sh}`);
  if (opts.bin) args.push(`--bin=${opts.bin}`);
  if (opts.title) args.push(`--title=${opts.title}`);
  args.push('--', words);
  const r = Bun.spawnSync(args, { stdout: 'pipe', stderr: 'pipe', timeout: 20_000 });
  if (r.exitCode !== 0) throw new Error(`fakenode tree failed: ${r.stderr.toString()}`);
  const t = JSON.parse(r.stdout.toString()) as HostTree;
  hostTrees.push(t);
  try {
    mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
    appendFileSync(HOST_TREES_FILE, `${t.pgid} ${t.npm}\n`);
  } catch {
    /* best effort */
  }
  return t;
}

/** SIGKILLs the process groups of every host tree this process started. */
export function killHostTrees(): void {
  for (const t of hostTrees.splice(0)) {
    try {
      process.kill(-t.pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', () => killHostTrees());

// -------------------------------------------------------------- pidwarden

/**
 * The state file of this test process (restart history, ladder locks): never the host's
 * /var/lib/pidwarden. A test that is about the state file passes its own --state-file.
 */
export const TEST_STATE_FILE = join(REPO_ROOT, '.tmp', 'state', RUN_ID, 'state.json');

/**
 * The environment of a pidwarden this test starts itself (a monitor it signals): the private
 * engine, this process's state file, and none of the user's PIDWARDEN_* settings or docker context.
 */
export function pidwardenEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(dockerEnv())) if (!k.startsWith('PIDWARDEN_')) env[k] = v;
  return { ...env, PIDWARDEN_STATE_FILE: TEST_STATE_FILE, ...extra };
}

/**
 * Runs dist/pidwarden with DOCKER_HOST set to the private engine. `command` runs another binary
 * instead (a release binary, or an emulator and its arguments before one).
 */
export async function runPidwarden(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; command?: string[]; cwd?: string } = {},
): Promise<RunResult> {
  const command = opts.command ?? [PIDWARDEN_BIN];
  if (!existsSync(command.at(-1)!)) throw new Error(`${command.at(-1)} missing: run \`npm run build\``);
  const proc = Bun.spawn([...command, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: dockerEnv({ PIDWARDEN_STATE_FILE: TEST_STATE_FILE, ...opts.env }),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const timedOut = proc.signalCode === 'SIGKILL';
  return { code: code ?? 137, stdout, stderr, timedOut };
}

/**
 * What a test compares of a run: its exit status and whether it was killed at its deadline; for a
 * killed run also the end of what it had printed, so that the failure says how far it got (a
 * cleanup's JSONL names each step and kill as it happens).
 */
export function outcome(r: RunResult): { code: number; timedOut: boolean; stdoutTail?: string; stderrTail?: string } {
  if (!r.timedOut) return { code: r.code, timedOut: false };
  return { code: r.code, timedOut: true, stdoutTail: r.stdout.slice(-4000), stderrTail: r.stderr.slice(-2000) };
}

// ------------------------------------------------------------------ utils

/** pidwarden's JSONL (stdout or a --log-file's text): one object a non-blank line. */
export function parseJsonl<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A --log-file's lines so far; none while it does not exist yet. */
export function readJsonl<T = Record<string, unknown>>(path: string): T[] {
  return existsSync(path) ? parseJsonl<T>(readFileSync(path, 'utf8')) : [];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `pred` until it returns a truthy value (returned) or throws on
 * timeout.  Exceptions from `pred` count as "not yet"; the last one is
 * reported on timeout.
 */
export async function waitFor<T>(
  pred: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 100,
  what = 'condition',
): Promise<NonNullable<T>> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await pred();
      if (v) {
        noteSlowWait(what, Date.now() - started, timeoutMs);
        return v as NonNullable<T>;
      }
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A wait that used more than a quarter of its deadline and still made it: one line in
 * .tmp/test-reports/slow-waits.jsonl. The deadlines that a slower or busier machine would miss
 * show up there first, before they fail (`bun scripts/slow-waits.ts` sums them up over runs).
 */
const SLOW_WAIT_SHARE = 0.25;
function noteSlowWait(what: string, elapsedMs: number, timeoutMs: number): void {
  if (elapsedMs <= timeoutMs * SLOW_WAIT_SHARE) return;
  try {
    const dir = join(REPO_ROOT, '.tmp', 'test-reports');
    mkdirSync(dir, { recursive: true });
    const frame = (new Error().stack ?? '').split('\n').find((l) => l.includes('.test.ts'));
    const file = frame?.match(/(test\/[^\s():]+\.test\.ts):(\d+)/)?.slice(1, 3).join(':') ?? '';
    appendFileSync(join(dir, 'slow-waits.jsonl'), JSON.stringify({ at: new Date().toISOString(), lane: process.env.PIDWARDEN_TEST_LANE ?? '', file, what, elapsedMs, timeoutMs }) + '\n');
  } catch {
    // a report, never a reason to fail a test
  }
}

/** clock ticks per second for startTicks (USER_HZ, 100 on Linux/x86) */
export const CLOCK_TICKS = 100;
