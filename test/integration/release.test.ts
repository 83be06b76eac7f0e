/**
 * `npm run release` run once for this file, as a user runs it, then each binary of dist/release/
 * checked the way its host would use it:
 *   x64    run here: --version (version and commit from git), --help, audit --json of a storm
 *          compared with the kernel's count;
 *   arm64  the same through qemu-user (qemu-aarch64-static -L /usr/aarch64-linux-gnu, Debian's
 *          qemu-user-static with libc6-arm64-cross and libstdc++6-arm64-cross);
 *   musl   not runnable here (Bun's musl runtime also needs Alpine's libstdc++ and libgcc, which no
 *          reachable registry has): its ELF header says x86-64 and musl's loader.
 * Plus SHA256SUMS (`sha256sum -c`), the man page and examples/build-image.sh with a release binary.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngine, docker, hostProcsOfContainer, pidsFiles, REPO_ROOT, RUN_ID, runPidwarden, startWorkload, waitForChainsAndThreads, type Workload } from './harness.ts';
import { MAGIC } from './packages.ts';
import { manPage } from '../../src/cli/man-page.ts';

// A cold build downloads two Bun runtimes (~100 MiB each) from the npm registry; measured warm:
// 10 s for all three. Under qemu an arm64 start takes 1-7 s depending on the machine's load.
setDefaultTimeout(180_000);

const OUT = join(REPO_ROOT, 'dist', 'release');
const QEMU = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];
const VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

function git(...args: string[]): string {
  return Bun.spawnSync(['git', '-C', REPO_ROOT, ...args], { stdout: 'pipe', stderr: 'pipe' }).stdout.toString().trim();
}

/** The commit --version must name: HEAD, "+dirty" while tracked files differ from it. */
function expectedCommit(): string {
  return git('rev-parse', '--short=12', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : '');
}

/** e_machine and the PT_INTERP path of a 64-bit little-endian ELF file. */
function elfInfo(path: string): { machine: number; interpreter: string | null } {
  const fd = openSync(path, 'r');
  try {
    const read = (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      readSync(fd, b, 0, len, pos);
      return b;
    };
    const h = read(0, 64);
    expect(h.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(h[4]).toBe(2); // ELFCLASS64
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    let interpreter: string | null = null;
    for (let i = 0; i < phnum; i++) {
      const ph = read(phoff + i * phentsize, phentsize);
      if (ph.readUInt32LE(0) === 3 /* PT_INTERP */) {
        interpreter = read(Number(ph.readBigUInt64LE(8)), Number(ph.readBigUInt64LE(32))).toString('latin1').replace(/\0+$/, '');
      }
    }
    return { machine: h.readUInt16LE(18), interpreter };
  } finally {
    closeSync(fd);
  }
}

const RUNNABLE = [
  { file: 'pidwarden-linux-x64', platform: 'linux-x64', machine: EM_X86_64, interpreter: '/lib64/ld-linux-x86-64.so.2', prefix: [] as string[] },
  { file: 'pidwarden-linux-arm64', platform: 'linux-arm64', machine: EM_AARCH64, interpreter: '/lib/ld-linux-aarch64.so.1', prefix: QEMU },
];

describeEngine('npm run release: dist/release/', () => {
  let storm: Workload;
  let buildSeconds = 0;
  const tags: string[] = [];

  beforeAll(async () => {
    const t0 = performance.now();
    const r = Bun.spawnSync(['npm', 'run', '--silent', 'release'], { cwd: REPO_ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: 170_000 });
    buildSeconds = (performance.now() - t0) / 1000;
    if (r.exitCode !== 0) throw new Error(`npm run release failed (${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
    console.error(`[release] npm run release: ${buildSeconds.toFixed(1)} s\n${r.stdout.toString().trim()}`);
    storm = await startWorkload({ image: 'busybox', name: 'release', reap: true, interval: 0.05, trees: [{ npx: MAGIC, copies: 6 }] });
    await waitForChainsAndThreads(storm, 6);
  });
  afterAll(() => {
    for (const t of tags) docker('rmi', '-f', t);
  });

  test('three binaries, the man page and SHA256SUMS, which `sha256sum -c` accepts', () => {
    const files = ['SHA256SUMS', 'pidwarden-linux-arm64', 'pidwarden-linux-x64', 'pidwarden-linux-x64-musl', 'pidwarden.1'];
    expect(readdirSync(OUT).sort()).toEqual(files);
    const sums = readFileSync(join(OUT, 'SHA256SUMS'), 'utf8');
    expect(sums.split('\n').filter(Boolean).map((l) => l.split('  ')[1])).toEqual(files.filter((f) => f !== 'SHA256SUMS'));
    const check = Bun.spawnSync(['sha256sum', '-c', 'SHA256SUMS'], { cwd: OUT, stdout: 'pipe', stderr: 'pipe' });
    expect({ code: check.exitCode, stderr: check.stderr.toString() }).toEqual({ code: 0, stderr: '' });
    expect(check.stdout.toString().trim().split('\n')).toEqual(files.filter((f) => f !== 'SHA256SUMS').map((f) => `${f}: OK`));
    expect(readFileSync(join(OUT, 'pidwarden.1'), 'utf8')).toBe(manPage(VERSION));
  });

  test.each(RUNNABLE)('$file: its ELF header, --version (version, commit, platform), --help, audit --json of a storm', async (b) => {
    const bin = join(OUT, b.file);
    expect(elfInfo(bin)).toEqual({ machine: b.machine, interpreter: b.interpreter });
    const command = [...b.prefix, bin];
    // together: under qemu each start costs 1-7 s
    const [version, help, audit] = await Promise.all([['--version'], ['--help'], ['audit', '--json', '--container', storm.id]].map((args) => runPidwarden(args, { command, timeoutMs: 120_000 })));
    expect({ code: version!.code, stdout: version!.stdout, stderr: version!.stderr }).toEqual({ code: 0, stdout: `${VERSION} (commit ${expectedCommit()}, ${b.platform})\n`, stderr: '' });
    expect(help!.code).toBe(0);
    for (const cmd of ['audit', 'cleanup', 'monitor', 'completion']) expect(help!.stdout).toMatch(new RegExp(`^\\s+pidwarden ${cmd}\\s`, 'm'));

    expect(audit!.stderr).toBe('');
    expect(audit!.code).toBe(1); // 19 processes > --max-procs 15: critical
    const doc = JSON.parse(audit!.stdout) as { containers: { id: string; status: string; processes: { total: number; matching: number; source: string }; pids: { current: number } }[] };
    expect(doc.containers.map((c) => c.id)).toEqual([storm.id]);
    const c = doc.containers[0]!;
    const truth = hostProcsOfContainer(storm);
    expect({ status: c.status, total: c.processes.total, matching: c.processes.matching, source: c.processes.source }).toEqual({
      status: 'critical',
      total: truth.length,
      matching: 6,
      source: 'ps',
    });
    expect(c.pids.current).toBe(pidsFiles(storm).current);
  });

  test('pidwarden-linux-x64-musl: x86-64, loaded by musl\'s loader (run on Alpine with `apk add libstdc++ libgcc`)', () => {
    expect(elfInfo(join(OUT, 'pidwarden-linux-x64-musl'))).toEqual({ machine: EM_X86_64, interpreter: '/lib/ld-musl-x86_64.so.1' });
  });

  test('examples/build-image.sh takes a release binary: the image runs it', () => {
    const tag = `pidwarden:${RUN_ID}-release`;
    tags.push(tag);
    const b = Bun.spawnSync(['bash', join(REPO_ROOT, 'examples', 'build-image.sh'), join(OUT, 'pidwarden-linux-x64'), tag], {
      env: { ...process.env, DOCKER_HOST: process.env.PIDWARDEN_TEST_DOCKER_HOST ?? '' },
      stdout: 'pipe',
      stderr: 'pipe',
      timeout: 120_000,
    });
    expect({ code: b.exitCode, stderr: b.exitCode === 0 ? '' : b.stderr.toString() }).toEqual({ code: 0, stderr: '' });
    const v = docker('run', '--rm', '--network', 'none', '--cap-drop', 'ALL', tag, '--version');
    expect({ code: v.code, stdout: v.stdout }).toEqual({ code: 0, stdout: `${VERSION} (commit ${expectedCommit()}, linux-x64)\n` });
  });
});
