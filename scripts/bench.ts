// The benchmark (README: Performance): pidwarden against the shell way, side by side, in one run.
// Run through `npm run bench` (scripts/bench), which starts the private engine and images first.
// Prints a table with ratios and each target as met or not, and writes the figures as JSON.
//
//   a. cleanup of a 150-tree storm (~450 processes) in twin containers: pidwarden vs shell-cleanup.sh
//   b. audit of 30 containers: pidwarden vs shell-audit.sh (docker stats --no-stream + exec ps each)
//   c. monitor on 30 healthy containers at --interval 0.25 for 30 s: CPU ms per container-cycle,
//      peak RSS, RSS growth
//   d. time from the start of a 180-process storm to healthy under monitor --interval 1
//   e. the floor: an empty compiled Bun binary's RSS and start time
import { mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findPidsCgroup } from '../src/observe/cgroup.ts';
import { containerHostPids } from '../src/observe/host-proc.ts';

const ROOT = resolve(import.meta.dir, '..');
const BIN = join(ROOT, 'dist', 'pidwarden');
const OUT = join(ROOT, '.tmp', 'bench');
const DOCKER_HOST = process.env.DOCKER_HOST ?? '';
const IMAGE = 'pidwarden-test/busybox';
const LABEL = 'pidwarden-bench=1';
/** Scale down for a quick look: PIDWARDEN_BENCH_QUICK=1 (figures are then not comparable to targets). */
const QUICK = process.env.PIDWARDEN_BENCH_QUICK === '1';
const MONITOR_SECONDS = QUICK ? 8 : 30;
const AUDIT_CONTAINERS = QUICK ? 8 : 30;
const STORM_TREES = QUICK ? 40 : 150;

if (!DOCKER_HOST) {
  console.error('bench: DOCKER_HOST is not set; run it through `npm run bench`');
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });
// The bench's own state file (restart history, ladder locks), never the host's /var/lib/pidwarden.
const env = { ...process.env, DOCKER_HOST, PIDWARDEN_STATE_FILE: join(ROOT, '.tmp', 'bench', 'state', 'state.json') } as Record<string, string>;

function run(argv: string[], opts: { timeoutMs?: number } = {}) {
  const t0 = performance.now();
  const r = Bun.spawnSync(argv, { env, stdout: 'pipe', stderr: 'pipe', timeout: opts.timeoutMs ?? 600_000 });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString(), ms: performance.now() - t0 };
}

function docker(...args: string[]) {
  const r = run(['docker', ...args]);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.err.trim()}`);
  return r.out.trim();
}

function removeBenchContainers() {
  const ids = docker('ps', '-aq', '--filter', `label=${LABEL}`).split(/\s+/).filter(Boolean);
  if (ids.length) run(['docker', 'rm', '-f', ...ids]);
}

/** A MetaMCP-like container: PID 1 app, `trees` npm exec chains (npm -> sh -c -> node). */
function startContainer(name: string, trees: number, labels: string[] = [], threads = '2,2,2') {
  const specs = ['-y @21st-dev/magic@latest', 'ruv-swarm mcp start', 'figma-mcp'];
  const plan = [`--interval=0.002`, `--threads=${threads}`, '--reap=own', '--sh=fake'];
  // Round-robin over three packages: duplicates of each, started at different times.
  const per = Math.ceil(trees / specs.length);
  let left = trees;
  for (const s of specs) {
    const n = Math.min(per, left);
    left -= n;
    if (n > 0) plan.push(`tree/x${n}=${s}`);
  }
  const args = ['run', '-d', '--network', 'none', '--name', name, '--label', LABEL];
  for (const l of labels) args.push('--label', l);
  args.push('-e', `FAKENODE_ARGS=${plan.join('\n')}`, IMAGE, 'dist/index.js');
  return docker(...args);
}

async function processCount(name: string): Promise<number> {
  const pid = Number(docker('inspect', '-f', '{{.State.Pid}}', name));
  const id = docker('inspect', '-f', '{{.Id}}', name).trim();
  const cg = await findPidsCgroup(pid, id, { procRoot: '/proc' });
  if (!cg) throw new Error(`no cgroup for ${name}`);
  return (await containerHostPids(cg.dir, pid, '/proc', false)).length;
}

async function waitFor(pred: () => Promise<boolean>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function ticksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, fields 14 and 15
}

function rssKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const results: Record<string, unknown> = { quick: QUICK, when: new Date().toISOString(), cpus: navigator.hardwareConcurrency };
const rows: [string, string, string, string, string][] = [];
function row(name: string, ours: string, theirs: string, ratioOrFigure: string, target: string) {
  rows.push([name, ours, theirs, ratioOrFigure, target]);
}

// ---------------------------------------------------------------- a. cleanup of a storm
async function benchCleanup() {
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
  results.cleanup = {
    processes: expected,
    pidwarden: { ms: Math.round(pw.ms), exit: pw.code, restart: pwRestart, processesAfter: pwAfter },
    shell: { ms: Math.round(sh.ms), restart: shRestart },
    ratio,
    met: ratio <= 0.05 && !pwRestart,
  };
  row(`a. cleanup ${expected} procs`, `${ms(pw.ms)}${pwRestart ? ' +restart' : ''}`, `${ms(sh.ms)}${shRestart ? ' +restart' : ''}`, ratio.toFixed(3), `<= 0.05, no restart: ${verdict(ratio <= 0.05 && !pwRestart)}`);
  run(['docker', 'rm', '-f', 'bench-storm-pw', 'bench-storm-sh']);
}

// ---------------------------------------------------------------- b. audit of 30 containers
async function benchAudit() {
  const names = Array.from({ length: AUDIT_CONTAINERS }, (_, i) => `bench-audit-${i}`);
  for (const n of names) startContainer(n, 3, ['pidwarden-bench-audit=1']);
  for (const n of names) await waitFor(async () => (await processCount(n)) >= 10, 60_000, n);
  const best = (argv: string[]) => Math.min(...[0, 1, 2].map(() => run(argv).ms));
  const pwMs = best([BIN, 'audit', '--json', '--label', 'pidwarden-bench-audit=1']);
  const pwHostMs = best([BIN, 'audit', '--json', '--label', 'pidwarden-bench-audit=1', '--proc-source', 'host']);
  const shMs = best(['bash', join(ROOT, 'scripts', 'shell-audit.sh'), ...names]);
  results.audit = {
    containers: names.length,
    pidwardenMs: Math.round(pwMs),
    pidwardenHostProcMs: Math.round(pwHostMs),
    shellMs: Math.round(shMs),
    ratio: pwMs / shMs,
    ratioHostProc: pwHostMs / shMs,
    met: pwMs / shMs <= 0.1,
  };
  row(`b. audit ${names.length} containers`, ms(pwMs), ms(shMs), (pwMs / shMs).toFixed(3), `<= 0.1: ${verdict(pwMs / shMs <= 0.1)}`);
  row(`   ... --proc-source host`, ms(pwHostMs), ms(shMs), (pwHostMs / shMs).toFixed(3), `<= 0.1: ${verdict(pwHostMs / shMs <= 0.1)}`);
  // The difference is the one `ps` exec per container: runc's work, in the engine, not in pidwarden.
  const perExec = (pwMs - pwHostMs) / names.length;
  (results.audit as Record<string, unknown>).execCostMsPerContainer = perExec;
  row('   ... cost of the ps exec', `${perExec.toFixed(1)} ms/container`, '', `${names.length} execs`, 'explains the gap');
  return names;
}

// ---------------------------------------------------------------- c. monitor cost on healthy containers
async function benchMonitorIdle() {
  // Healthy containers: 3 trees (10 processes) under --max-procs 15, no pids pressure.
  const log = join(OUT, 'monitor-idle.jsonl');
  rmSync(log, { force: true });
  const proc = Bun.spawn(
    [BIN, 'monitor', '--label', 'pidwarden-bench-audit=1', '--interval', '0.25', '--heartbeat', String(MONITOR_SECONDS / 3), '--log-file', log],
    { env, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' },
  );
  await Bun.sleep(2000); // start-up and first inspects are not the steady state
  const t0 = ticksOf(proc.pid);
  const rss0 = rssKiB(proc.pid, 'VmRSS');
  const cycles0 = lastCycles(log);
  await Bun.sleep(MONITOR_SECONDS * 1000);
  const t1 = ticksOf(proc.pid);
  const rss1 = rssKiB(proc.pid, 'VmRSS');
  const hwm = rssKiB(proc.pid, 'VmHWM');
  const cycles1 = lastCycles(log);
  proc.kill('SIGTERM');
  await proc.exited;
  const cycles = Math.max(1, cycles1 - cycles0);
  const cpuMs = (t1 - t0) * 10; // USER_HZ = 100
  const perContainerCycle = cpuMs / (cycles * AUDIT_CONTAINERS);
  results.monitorIdle = {
    containers: AUDIT_CONTAINERS,
    seconds: MONITOR_SECONDS,
    cycles,
    cpuMs,
    msPerContainerCycle: perContainerCycle,
    peakRssMiB: hwm / 1024,
    rssGrowthMiB: (rss1 - rss0) / 1024,
    met: perContainerCycle <= 0.2 && hwm / 1024 <= 64 && rss1 - rss0 <= 1024,
  };
  row('c. monitor, CPU per container-cycle', `${perContainerCycle.toFixed(3)} ms`, '', `${cycles} cycles`, `<= 0.2 ms: ${verdict(perContainerCycle <= 0.2)}`);
  row('   peak RSS', `${(hwm / 1024).toFixed(1)} MiB`, '', '', `<= 64 MiB: ${verdict(hwm / 1024 <= 64)}`);
  row('   RSS growth', `${((rss1 - rss0) / 1024).toFixed(2)} MiB`, '', `over ${MONITOR_SECONDS} s`, `none (< 1 MiB): ${verdict(rss1 - rss0 <= 1024)}`);
}

/** The monitor's heartbeat lines count cycles; the last one seen so far. */
function lastCycles(log: string): number {
  if (!existsSync(log)) return 0;
  let n = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes('"heartbeat"')) continue;
    try {
      n = Number(JSON.parse(line).cycles ?? n);
    } catch {
      // a line being written
    }
  }
  return n;
}

// ---------------------------------------------------------------- d. storm to healthy under monitor
async function benchStormToHealthy() {
  const log = join(OUT, 'monitor-storm.jsonl');
  rmSync(log, { force: true });
  const proc = Bun.spawn([BIN, 'monitor', '--label', 'pidwarden-bench-storm=1', '--interval', '1', '--grace', '1', '--log-file', log], {
    env,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  await Bun.sleep(1500);
  const t0 = performance.now();
  startContainer('bench-storm-mon', 60, ['pidwarden-bench-storm=1']);
  let peak = 0;
  await waitFor(async () => {
    const n = await processCount('bench-storm-mon');
    peak = Math.max(peak, n);
    return peak > 15 && n <= 15;
  }, 60_000, 'storm to be cleaned');
  const elapsed = performance.now() - t0;
  proc.kill('SIGTERM');
  await proc.exited;
  const restarted = existsSync(log) && readFileSync(log, 'utf8').includes('"event":"restart"');
  results.stormToHealthy = { processesPeak: peak, ms: Math.round(elapsed), restarted, met: elapsed <= 2000 };
  row('d. 180-process storm to healthy', ms(elapsed), '', `peak ${peak}${restarted ? ', restarted' : ''}`, `<= 2 s: ${verdict(elapsed <= 2000)}`);
  run(['docker', 'rm', '-f', 'bench-storm-mon']);
}

// ---------------------------------------------------------------- e. the floor
// Two floors: an empty compiled Bun program, and one that only loads the four packages pidwarden
// is built on (yargs, pino, dockerode, systeminformation), parses a command line with yargs, asks
// the engine for its container list every 0.25 s and does nothing else, built exactly like
// dist/pidwarden (scripts/build.ts). The
// second is what any monitor on these packages costs before a line of pidwarden runs.
/** Each floor program prints its own peak RSS (VmHWM) in KiB as it ends. */
const PRINT_PEAK = `
const hwm = /^VmHWM:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
console.log(hwm ? hwm[1] : 'NaN');
`;
const EMPTY_FLOOR = `// an empty program (it only reports its peak RSS)\n${PRINT_PEAK}`;
const PACKAGES_FLOOR = `
import yargs from 'yargs';
import pino from 'pino';
import Docker from 'dockerode';
import si from 'systeminformation';
void [pino, si];
// One yargs parse of a one-option command, as any CLI on yargs does (measured alone: +10 MiB).
await yargs(['monitor', '--interval', '0.25']).exitProcess(false).command('monitor', 'm', (y) => y.option('interval', { type: 'string' })).parseAsync();
const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? '').replace('unix://', '') });
const seconds = Number(process.argv[2] ?? 0);
const until = Date.now() + seconds * 1000;
do {
  await docker.listContainers();
  if (seconds > 0) await Bun.sleep(250);
} while (Date.now() < until);
${PRINT_PEAK}`;

async function benchFloor() {
  // Built in a child process: building in-process would grow this process, and a child's ru_maxrss
  // includes what it inherited before exec.
  const build = (name: string, text: string) => {
    writeFileSync(join(OUT, `${name}.ts`), text);
    const b = run([join(ROOT, 'node_modules', '.bin', 'bun'), join(ROOT, 'scripts', 'build.ts'), join(OUT, `${name}.ts`), join(OUT, name)]);
    if (b.code !== 0) throw new Error(`building ${name} failed: ${b.err}`);
    return join(OUT, name);
  };
  const selfReport = (argv: string[], times = 3) => {
    const samples = Array.from({ length: times }, () => run(argv));
    return {
      ms: Math.min(...samples.map((r) => r.ms)),
      peakMiB: Math.min(...samples.map((r) => Number(r.out.trim().split('\n').pop()) / 1024)),
    };
  };
  const empty = selfReport([build('empty', EMPTY_FLOOR)]);
  const packages = selfReport([build('packages', PACKAGES_FLOOR), String(QUICK ? 8 : 30)], 1);
  const version = Math.min(...[0, 1, 2, 3, 4].map(() => run([BIN, '--version']).ms));
  results.floor = { emptyBun: empty, packagesLoop: packages, pidwardenVersionMs: version };
  row('e. floor: empty Bun binary', `${ms(empty.ms)}, ${empty.peakMiB.toFixed(1)} MiB peak`, '', '', 'reference');
  row('   floor: 4 packages, yargs parse, list loop', `${packages.peakMiB.toFixed(1)} MiB peak`, '', `${QUICK ? 8 : 30} s`, 'reference');
  row('   pidwarden --version', ms(version), '', '', 'reference');
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}
function verdict(ok: boolean): string {
  return ok ? 'MET' : 'NOT MET';
}

function printTable() {
  const header: [string, string, string, string, string] = ['measure', 'pidwarden', 'shell way', 'ratio / figure', 'target'];
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  for (const r of all) console.log(r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ').trimEnd());
}

removeBenchContainers();
try {
  await benchFloor();
  await benchCleanup();
  await benchAudit();
  await benchMonitorIdle();
  await benchStormToHealthy();
} finally {
  removeBenchContainers();
}
printTable();
const file = join(OUT, 'results.json');
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
console.log(`\nfigures: ${file}`);
