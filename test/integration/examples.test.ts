/**
 * Every file in examples/ run as shown, against the private engine (README: Running it for weeks, "ready-made for
 * operators").  The only changes made to an example before running it are host paths, so the run
 * stays inside a temp directory and the private engine:
 *   /usr/local/bin/pidwarden           -> dist/pidwarden
 *   /var/log/pidwarden                 -> <tmp>/log
 *   /run/pidwarden.pid                 -> <tmp>/run/pidwarden.pid
 *   /var/lib/pidwarden                 -> <tmp>/state
 *   /var/lib/prometheus/node-exporter  -> <tmp>/prom
 * and DOCKER_HOST points at the private engine (the examples use the default socket).  The
 * compose file takes its host paths from HOST_DOCKER_SOCK / HOST_LOG_DIR / HOST_STATE_DIR, so it runs unchanged.
 *
 * Each example's monitor acts on the containers labelled pidwarden.enable=true, as every example
 * selects explicitly; the storm carries that label.  Default thresholds
 * (--max-procs 15): a 6-tree storm (19 processes) is critical, and the first cycle, right at
 * start, cleans it, so --interval 30 needs no waiting.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeEngine,
  docker,
  dockerOk,
  engine,
  hostProcsOfContainer,
  PIDWARDEN_BIN,
  REPO_ROOT,
  RUN_ID,
  startWorkload,
  waitFor,
  waitForChains,
  type Workload,
  readJsonl,
} from './harness.ts';
import { MAGIC } from './packages.ts';

setDefaultTimeout(120_000);

const EX = join(REPO_ROOT, 'examples');
const DEFAULT_MAX_PROCS = 15;
let tmp = '';
/** compose project name: docker-compose 1.x keeps only [a-z0-9] */
const PROJECT = `${RUN_ID.replace(/[^a-z0-9]/g, '')}ex`;

interface LogLine {
  time: string;
  level: string;
  event: string;
  containerId?: string;
  healthy?: boolean;
  reason?: string;
  before?: { processes: number | null; pidsCurrent: number | null };
  [k: string]: unknown;
}

function localize(text: string): string {
  return text
    .replaceAll('/usr/local/bin/pidwarden', PIDWARDEN_BIN)
    .replaceAll('/var/log/pidwarden', join(tmp, 'log'))
    .replaceAll('/run/pidwarden.pid', join(tmp, 'run', 'pidwarden.pid'))
    .replaceAll('/var/lib/pidwarden', join(tmp, 'state'))
    .replaceAll('/var/lib/prometheus/node-exporter', join(tmp, 'prom'));
}

const LOG = () => join(tmp, 'log', 'pidwarden.jsonl');
const PIDFILE = () => join(tmp, 'run', 'pidwarden.pid');
const SOCK = () => (engine.host ?? '').replace(/^unix:\/\//, '');

/** A shell's environment as cron/systemd give it: minimal, plus the private engine. */
function plainEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', SHELL: '/bin/sh', LANG: 'C.UTF-8', DOCKER_HOST: engine.host ?? '', ...extra };
}

function run(argv: string[], env: Record<string, string> = plainEnv(), timeoutMs = 120_000) {
  const r = Bun.spawnSync(argv, { cwd: tmp, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: timeoutMs });
  return { code: r.exitCode ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const readLog = (path: string): LogLine[] => readJsonl<LogLine>(path);

const aliveProc = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

/** A 6-tree storm (19 processes), opted in as the examples select, complete before the example starts. */
async function storm(name: string): Promise<Workload> {
  const w = await startWorkload({
    image: 'busybox',
    name,
    reap: true,
    interval: 0.05,
    trees: [{ npx: MAGIC, copies: 6 }],
    labels: { 'pidwarden.enable': 'true' },
  });
  await waitForChains(w, 6);
  return w;
}

/**
 * The same storm run by uid 1000 in an image without `kill` (nor ps): pidwarden must signal it by
 * host PID, a process of another user, which takes CAP_KILL.
 */
async function stormOfAnotherUser(name: string): Promise<Workload> {
  const w = await startWorkload({
    image: 'nops',
    name,
    reap: true,
    interval: 0.05,
    trees: [{ npx: MAGIC, copies: 6 }],
    runArgs: ['--user', '1000:1000'],
    labels: { 'pidwarden.enable': 'true' },
  });
  await waitForChains(w, 6);
  return w;
}

/**
 * Two trees of uid 1000 in an image without ps, whose PID 1 reaps nothing, and one zombie: its first
 * `npm exec` killed from here. Only the host /proc scan of the container's PID namespace finds that
 * zombie (it has left cgroup.procs), and reading /proc/<pid>/ns/pid of another container's process
 * takes CAP_SYS_PTRACE.
 */
async function containerWithZombie(name: string): Promise<Workload> {
  const w = await startWorkload({ image: 'nops', name, reap: false, interval: 0.05, trees: [{ npx: MAGIC, copies: 2 }], runArgs: ['--user', '1000:1000'] });
  const procs = await waitForChains(w, 2);
  const npm = procs.find((p) => p.argv[0]?.startsWith('npm exec'))!;
  process.kill(npm.hostPid, 'SIGKILL');
  await waitFor(() => hostProcsOfContainer(w).some((p) => p.state === 'Z'), 10_000, 50, 'a zombie');
  return w;
}

const zombiesOf = (w: Workload) => hostProcsOfContainer(w).filter((p) => p.state === 'Z').length;

/** The example's monitor brought the storm back under the default limit (log and kernel agree). */
async function cleaned(logPath: string, w: Workload, timeoutMs = 30_000): Promise<LogLine> {
  const result = await waitFor(() => readLog(logPath).find((e) => e.event === 'result' && e.containerId === w.id && e.healthy === true), timeoutMs, 100, `a healthy result for ${w.name}`);
  expect(result.before!.processes!).toBeGreaterThan(DEFAULT_MAX_PROCS);
  expect(hostProcsOfContainer(w).filter((p) => p.state !== 'Z').length).toBeLessThanOrEqual(DEFAULT_MAX_PROCS);
  return result;
}

/** SIGTERM a monitor that is not our child; it must be gone within 2 s. */
async function termAndWait(pid: number): Promise<number> {
  const t0 = performance.now();
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !aliveProc(pid), 2_000, 20, `pid ${pid} to exit after SIGTERM`);
  return performance.now() - t0;
}

function logFds(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  }).filter((t) => t.includes('pidwarden.jsonl'));
}

describeEngine('examples/ run as shown', () => {
  beforeAll(() => {
    tmp = mkdtempSync('/tmp/pwex-');
    for (const d of ['log', 'run', 'prom']) mkdirSync(join(tmp, d));
  });
  afterAll(() => {
    // a monitor an example left running (the pid file says which)
    try {
      const pid = Number(readFileSync(PIDFILE(), 'utf8').trim());
      if (pid > 0 && aliveProc(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('monitor')) process.kill(pid, 'SIGKILL');
    } catch {
      /* none */
    }
    run(['docker-compose', '-f', join(EX, 'compose.yaml'), '-p', PROJECT, 'down', '-t', '2'], composeEnv());
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  let nohupPid = 0;

  test('nohup.sh: detached monitor (stdin /dev/null, outlives its shell), pid file, cleans a storm at its first cycle', async () => {
    const w = await storm('nohup');
    const script = join(tmp, 'nohup.sh');
    writeFileSync(script, localize(readFileSync(join(EX, 'nohup.sh'), 'utf8')));
    const r = run(['sh', script]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    nohupPid = await waitFor(() => Number(readFileSync(PIDFILE(), 'utf8').trim()) || null, 10_000, 50, 'the pid file');
    expect(aliveProc(nohupPid)).toBe(true);
    expect(readlinkSync(`/proc/${nohupPid}/fd/0`)).toBe('/dev/null');
    // the pid file is written before the handlers are installed, the start line after them
    const start = await waitFor(() => readLog(LOG()).find((e) => e.event === 'start'), 10_000, 50, 'start line');
    // nohup set SIGHUP to ignored; pidwarden's own handler replaces that (needed for logrotate)
    const sigCgt = BigInt(`0x${readFileSync(`/proc/${nohupPid}/status`, 'utf8').match(/SigCgt:\s*([0-9a-f]+)/)![1]}`);
    expect((sigCgt >> 0n) & 1n).toBe(1n); // bit 0 = signal 1 = SIGHUP
    expect(start.pid).toBe(nohupPid);
    expect(start.interval).toBe(30);
    await cleaned(LOG(), w);
  });

  test('logrotate.conf with logrotate -f: the log is moved, postrotate SIGHUPs through the pid file, a new file is opened', async () => {
    expect(nohupPid).toBeGreaterThan(0);
    const conf = join(tmp, 'logrotate.conf');
    writeFileSync(conf, localize(readFileSync(join(EX, 'logrotate.conf'), 'utf8')));
    chmodSync(conf, 0o644); // logrotate refuses group/world-writable configs
    const r = run(['logrotate', '-v', '-f', '-s', join(tmp, 'logrotate.state'), conf]);
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const moved = `${LOG()}.1`; // delaycompress: the first rotation stays plain
    expect(readLog(moved)[0]!.event).toBe('start');
    // no `create` in the snippet: the new file is the one pidwarden opens on SIGHUP
    await waitFor(() => existsSync(LOG()), 10_000, 50, 'the new log file');
    await waitFor(() => {
      const fds = logFds(nohupPid);
      return fds.length > 0 && fds.every((t) => t === LOG()) ? fds : null;
    }, 10_000, 50, 'the monitor writing to the new file');
    expect(aliveProc(nohupPid)).toBe(true);

    // stop it like the comment in nohup.sh says: the stop line lands in the new file
    const ms = await termAndWait(nohupPid);
    console.log(`[examples] nohup monitor stopped ${ms.toFixed(0)} ms after SIGTERM`);
    const fresh = readLog(LOG());
    expect(fresh.map((e) => e.event)).toEqual(['stop']);
    expect(existsSync(PIDFILE())).toBe(false);
    expect(readFileSync(join(tmp, 'log', 'nohup.out'), 'utf8')).toBe('');
  });

  test('pidwarden.service: systemd-analyze verify is clean; ExecStart runs, ExecReload reopens the log, stop is SIGTERM -> exit 0', async () => {
    const unitDir = join(tmp, 'systemd');
    mkdirSync(unitDir);
    const unitText = localize(readFileSync(join(EX, 'pidwarden.service'), 'utf8'));
    const unit = join(unitDir, 'pidwarden.service');
    writeFileSync(unit, unitText);
    const v = run(['systemd-analyze', 'verify', unit]);
    expect({ code: v.code, out: (v.stdout + v.stderr).trim() }).toEqual({ code: 0, out: '' });

    // what systemd does: LogsDirectory= made the directory; ExecStart with stdin /dev/null
    rmSync(join(tmp, 'log'), { recursive: true, force: true });
    mkdirSync(join(tmp, 'log'));
    const w = await storm('systemd');
    const execStart = unitText.match(/^ExecStart=(.*)$/m)![1]!.trim().split(/\s+/);
    const proc = Bun.spawn(execStart, { cwd: '/', env: plainEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    try {
      await waitFor(() => readLog(LOG()).find((e) => e.event === 'start'), 10_000, 50, 'start line');
      await cleaned(LOG(), w);
      // systemctl reload: ExecReload with $MAINPID, after the log was moved away
      renameSync(LOG(), `${LOG()}.old`);
      const reload = unitText.match(/^ExecReload=(.*)$/m)![1]!.trim().replace('$MAINPID', String(proc.pid)).split(/\s+/);
      expect(run(reload).code).toBe(0);
      await waitFor(() => existsSync(LOG()) && logFds(proc.pid).every((t) => t === LOG()), 10_000, 50, 'log reopened');
      // systemctl stop: SIGTERM, TimeoutStopSec=10 (it needs far less)
      const t0 = performance.now();
      proc.kill('SIGTERM');
      const code = await Promise.race([proc.exited, Bun.sleep(2_000).then(() => 'timeout')]);
      console.log(`[examples] unit's ExecStart stopped in ${(performance.now() - t0).toFixed(0)} ms`);
      expect(code).toBe(0);
      expect(readLog(LOG()).map((e) => e.event)).toEqual(['stop']);
      expect(existsSync(PIDFILE())).toBe(false);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });

  test("crontab: the line's schedule is valid and its command, run by /bin/sh with cron's plain environment, writes the Prometheus file", async () => {
    const lines = readFileSync(join(EX, 'crontab'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines).toHaveLength(1);
    const fields = lines[0]!.trim().split(/\s+/);
    const schedule = fields.slice(0, 5);
    const field = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
    for (const f of schedule) expect(f).toMatch(field);
    const command = lines[0]!.trim().replace(/^(\S+\s+){5}/, '');
    expect(command).not.toContain('%'); // cron turns % into newlines
    const w = await storm('cron');
    const r = run(['/bin/sh', '-c', localize(command)]);
    // audit exits 1 when a container is critical (the storm is): cron doesn't care, output is discarded
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout: '', stderr: '' });
    expect(readFileSync(join(tmp, 'log', 'audit.err'), 'utf8')).toBe('');
    const prom = readFileSync(join(tmp, 'prom', 'pidwarden.prom'), 'utf8');
    const procs = prom.match(new RegExp(`^pidwarden_container_processes\\{id="${w.id.slice(0, 12)}",name="${w.name}",image="[^"]+"\\} (\\d+)$`, 'm'));
    expect(Number(procs?.[1])).toBeGreaterThanOrEqual(19);
    expect(prom).toMatch(new RegExp(`^pidwarden_container_status\\{id="${w.id.slice(0, 12)}",name="${w.name}",image="[^"]+"\\} 2$`, 'm'));
    expect(prom).toMatch(/^pidwarden_audit_timestamp_seconds \d+$/m);
    expect(readdirSync(join(tmp, 'prom'))).toEqual(['pidwarden.prom']); // no temp file left
  });

  test('docker-run.sh (the compose service as one docker run, --cgroupns host): cleans a storm, docker stop -> exit 0', async () => {
    const b = run(['bash', join(EX, 'build-image.sh')]);
    expect(b.code).toBe(0);
    const logDir = join(tmp, 'dlog');
    mkdirSync(logDir);
    const name = `${RUN_ID}-docker-run`;
    // only the host sides of the mounts and the name change
    const script = readFileSync(join(EX, 'docker-run.sh'), 'utf8')
      .replace('--name pidwarden ', `--name ${name} `)
      .replace('-v /var/run/docker.sock:', `-v ${SOCK()}:`)
      .replace('-v /var/log/pidwarden:', `-v ${logDir}:`)
      .replace('-v /var/lib/pidwarden:', `-v ${join(tmp, 'dstate')}:`);
    expect(script).toContain(`--name ${name} `);
    const w = await storm('docker-run');
    try {
      const r = run(['sh', '-c', script]);
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const log = join(logDir, 'pidwarden.jsonl');
      const start = await waitFor(() => readLog(log).find((e) => e.event === 'start'), 20_000, 100, 'start line');
      expect(start.pid).toBe(Number(dockerOk('inspect', '-f', '{{.State.Pid}}', name)));
      const result = await cleaned(log, w);
      expect(result.before!.pidsCurrent!).toBeGreaterThan(19);
      expect(dockerOk('stop', '-t', '10', name)).toBe(name);
      expect(dockerOk('inspect', '-f', '{{.State.ExitCode}}', name)).toBe('0');
      expect(readLog(log).at(-1)!.event).toBe('stop');
      expect(readLog(log).some((e) => e.event === 'error')).toBe(false);
    } finally {
      docker('rm', '-f', name);
    }
  });

  test('build-image.sh + compose.yaml (docker-compose up): pidwarden in a container with pid: host cleans a storm, stops with exit 0', async () => {
    const b = run(['bash', join(EX, 'build-image.sh')]);
    if (b.code !== 0) console.error(b.stderr);
    expect(b.code).toBe(0);
    const version = docker('run', '--rm', '--network', 'none', 'pidwarden:local', '--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    const logDir = join(tmp, 'clog');
    mkdirSync(logDir);
    const w = await storm('compose');
    const other = await stormOfAnotherUser('compose-uid1000');
    const zombie = await containerWithZombie('compose-zombie');
    const env = composeEnv({ HOST_LOG_DIR: logDir });
    const project = PROJECT;
    const up = run(['docker-compose', '-f', join(EX, 'compose.yaml'), '-p', project, 'up', '-d'], env);
    if (up.code !== 0) console.error(up.stderr);
    expect(up.code).toBe(0);
    const id = dockerOk('ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`);
    expect(id).not.toBe('');
    const log = join(logDir, 'pidwarden.jsonl');
    const start = await waitFor(() => readLog(log).find((e) => e.event === 'start'), 20_000, 100, 'start line from the container');
    // pid: host: the PID it logs and writes is a host PID, the container's init
    expect(start.pid).toBe(Number(dockerOk('inspect', '-f', '{{.State.Pid}}', id)));
    // least privilege as stated in compose.yaml, applied
    expect(JSON.parse(dockerOk('inspect', '-f', '{{json .HostConfig.CapDrop}} {{json .HostConfig.CapAdd}}', id).replace(' ', ',').replace(/^/, '[').replace(/$/, ']'))).toEqual([['ALL'], ['KILL', 'SYS_PTRACE']]);
    const result = await cleaned(log, w);
    // the cgroup fs mount works: pids.current came from the cgroup, not the API
    expect(result.before!.pidsCurrent!).toBeGreaterThan(19);
    // uid 1000 without kill in its image: signalled by host PID (CAP_KILL)
    await cleaned(log, other);
    const hostKills = readLog(log).filter((e) => e.event === 'kill' && e.containerId === other.id);
    expect(hostKills.length).toBeGreaterThan(0);
    expect(hostKills.every((e) => e.via === 'host')).toBe(true);
    expect(readLog(log).some((e) => e.event === 'error')).toBe(false);
    // audit from the same service (`docker-compose run`): the zombie of another user's container is
    // found (CAP_SYS_PTRACE), as the kernel counts it
    const audit = run(['docker-compose', '-f', join(EX, 'compose.yaml'), '-p', project, 'run', '--rm', '-T', 'pidwarden', 'audit', '--json', '--cgroup-root=/host/sys/fs/cgroup', '--container', zombie.id], env);
    expect(audit.code).toBe(0);
    const doc = JSON.parse(audit.stdout) as { containers: { processes: { zombies: number; total: number; source: string } }[] };
    expect(doc.containers[0]!.processes).toMatchObject({ zombies: zombiesOf(zombie), total: hostProcsOfContainer(zombie).length, source: 'host-proc' });
    expect(zombiesOf(zombie)).toBe(1);

    // logrotate for compose (README): move the log, `docker kill --signal HUP`: a new file
    renameSync(log, `${log}.1`);
    dockerOk('kill', '--signal', 'HUP', id);
    await waitFor(() => existsSync(log), 10_000, 50, 'the new log file after docker kill --signal HUP');
    expect(dockerOk('inspect', '-f', '{{.State.Running}}', id)).toBe('true');

    const stop = run(['docker-compose', '-f', join(EX, 'compose.yaml'), '-p', project, 'stop', '-t', '10'], env);
    expect(stop.code).toBe(0);
    expect(dockerOk('inspect', '-f', '{{.State.ExitCode}}', id)).toBe('0');
    expect(readLog(log).map((e) => e.event)).toEqual(['stop']);
    expect(existsSync(join(logDir, 'pidwarden.pid'))).toBe(false);
    expect(run(['docker-compose', '-f', join(EX, 'compose.yaml'), '-p', project, 'down'], env).code).toBe(0);
  });

  test('compose.yaml keeps KILL and SYS_PTRACE because each is used: without KILL another user\'s storm stays, without SYS_PTRACE its zombie is missed', async () => {
    expect(run(['bash', join(EX, 'build-image.sh')]).code).toBe(0);
    const other = await stormOfAnotherUser('caps-uid1000');
    const zombie = await containerWithZombie('caps-zombie');
    // the compose service's options as `docker run`, with one capability less each time
    const inContainer = (caps: string[], args: string[]) =>
      docker('run', '--rm', '--pid', 'host', '--network', 'none', '--read-only', '--cap-drop', 'ALL', ...caps.flatMap((c) => ['--cap-add', c]),
        '-v', `${SOCK()}:/var/run/docker.sock`, '-v', '/sys/fs/cgroup:/host/sys/fs/cgroup:ro', 'pidwarden:local', ...args, '--cgroup-root=/host/sys/fs/cgroup');
    const zombiesSeen = (caps: string[]) => {
      const r = inContainer(caps, ['audit', '--json', '--container', zombie.id]);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { containers: { processes: { zombies: number } }[] }).containers[0]!.processes.zombies;
    };
    expect(zombiesOf(zombie)).toBe(1);
    expect(zombiesSeen(['KILL'])).toBe(0);
    expect(zombiesSeen(['KILL', 'SYS_PTRACE'])).toBe(1);

    const before = hostProcsOfContainer(other).length;
    const denied = inContainer(['SYS_PTRACE'], ['cleanup', '--container', other.id, '--grace', '0.5', '--steps', 'dedupe']);
    expect(denied.code).toBe(1); // still unhealthy: every signal refused (EPERM)
    expect(hostProcsOfContainer(other).length).toBe(before);
    const allowed = inContainer(['KILL', 'SYS_PTRACE'], ['cleanup', '--container', other.id, '--grace', '0.5', '--steps', 'dedupe']);
    expect(allowed.code).toBe(0);
    expect(hostProcsOfContainer(other).filter((p) => p.state !== 'Z').length).toBeLessThanOrEqual(DEFAULT_MAX_PROCS);
  });
});

function composeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return plainEnv({ HOST_DOCKER_SOCK: SOCK(), HOST_LOG_DIR: join(tmp || '/tmp', 'clog'), HOST_STATE_DIR: join(tmp || '/tmp', 'cstate'), ...extra });
}
