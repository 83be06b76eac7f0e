// Which cgroup is the container's, which NSpid entry is its PID, did the init start when the
// engine says, and what a failing `kill` tells us. Pure functions over the kernel's own text
// (test/fixtures/cgroup/*, test/fixtures/layout/*: captured on this host, see their README).
import { describe, expect, test } from 'bun:test';
import { judgeKillErrors } from '../../src/act/kill-trees.ts';
import type { Target } from '../../src/act/identity.ts';
import { containerPaths, dirsUpTo, parseProcCgroup } from '../../src/observe/cgroup-parse.ts';
import {
  START_TOLERANCE_MS,
  containerCgroupPath,
  isSharedPidMode,
  sharedPidNamespaceWhy,
  namesContainer,
  nsPidAtDepth,
  startMatches,
  type EngineStartWindow,
} from '../../src/observe/layout.ts';
import { parseBootTime, startedAtMs } from '../../src/observe/boot-time.ts';
import { parseNsPid } from '../../src/observe/proc-stat.ts';
import { fixture } from './helpers/fixtures.ts';

const ID = 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8';
const OTHER = 'd253fe7f9940eb4fa9bd9433c59c885b70e4ff33b42faf8a1111b379a18fddc2';

describe('namesContainer: one cgroup path segment, per runtime', () => {
  const rows: [string, string, boolean][] = [
    ['cgroupfs driver', ID, true],
    ['systemd driver', `docker-${ID}.scope`, true],
    ['podman (systemd)', `libpod-${ID}.scope`, true],
    ['podman (cgroupfs)', `libpod-${ID}`, true],
    ['cri-o', `crio-${ID}.scope`, true],
    ['containerd CRI', `cri-containerd-${ID}.scope`, true],
    ['another container', `docker-${OTHER}.scope`, false],
    ['a prefix of the ID', ID.slice(0, 12), false],
    ['the ID with a suffix', `${ID}x`, false],
    ['docker:dind init leaf', 'init', false],
    ['systemd in the container', 'init.scope', false],
    ['crun leaf', 'container', false],
  ];
  for (const [what, segment, want] of rows) {
    test(`${what}: ${segment.replace(ID, '<id>').replace(OTHER, '<other>')} -> ${want}`, () => {
      expect(namesContainer(segment, ID)).toBe(want);
    });
  }
  test('an ID that is not 64 hex digits names nothing (no prefix matching, ever)', () => {
    expect(namesContainer(ID, ID.slice(0, 12))).toBe(false);
    expect(namesContainer('', '')).toBe(false);
  });
});

describe('containerCgroupPath: walk up from the init\'s cgroup to the one named after the ID', () => {
  const rows: [string, string, string | null][] = [
    ['cgroupfs: the init is in the container cgroup', `/docker/${ID}`, `/docker/${ID}`],
    ['systemd driver', `/system.slice/docker-${ID}.scope`, `/system.slice/docker-${ID}.scope`],
    ['docker:dind moves its PID 1 into <id>/init', `/docker/${ID}/init`, `/docker/${ID}`],
    ['systemd inside the container: init.scope', `/system.slice/docker-${ID}.scope/init.scope`, `/system.slice/docker-${ID}.scope`],
    ['crun: a .../container leaf', `/machine.slice/libpod-${ID}.scope/container`, `/machine.slice/libpod-${ID}.scope`],
    ['--cgroup-parent', `/custom/parent/${ID}`, `/custom/parent/${ID}`],
    ['an inner container of a dind: the nearest match', `/docker/${OTHER}/docker/${ID}`, `/docker/${OTHER}/docker/${ID}`],
    ['the outer one seen from its inner container\'s init', `/docker/${ID}/docker/${OTHER}`, `/docker/${ID}`],
    ['rootless without a cgroup per container', '/user.slice/user-1000.slice/user@1000.service/app.slice/docker.service', null],
    ['pid=host init on a host without container cgroups', '/', null],
  ];
  for (const [what, init, want] of rows) {
    test(what, () => expect(containerCgroupPath(init, ID)).toBe(want));
  }

  test('verbatim /proc/<init>/cgroup of a container on this host (cgroup v1, cgroupfs): every hierarchy maps to it', () => {
    const cg = containerPaths(parseProcCgroup(fixture('cgroup', 'v1-hybrid-cgroupfs', 'proc-pid-cgroup.pids-limit-25.txt')), ID);
    expect(cg.v1.get('pids')).toBe(`/docker/${ID}`);
    expect(cg.v2).toBe(`/docker/${ID}`);
  });

  test('the same file read for another container ID: no hierarchy is kept (not ours)', () => {
    const cg = containerPaths(parseProcCgroup(fixture('cgroup', 'v1-hybrid-cgroupfs', 'proc-pid-cgroup.pids-limit-25.txt')), OTHER);
    expect(cg.v1.size).toBe(0);
    expect(cg.v2).toBeNull();
  });
});

describe('dirsUpTo: where a pids.max can bite, container first', () => {
  test('from the container up to, not including, the mount point', () => {
    expect(dirsUpTo(`/sys/fs/cgroup/pids/custom/parent/${ID}`, '/sys/fs/cgroup/pids')).toEqual([
      `/sys/fs/cgroup/pids/custom/parent/${ID}`,
      '/sys/fs/cgroup/pids/custom/parent',
      '/sys/fs/cgroup/pids/custom',
    ]);
  });
  test('the top itself: just itself', () => {
    expect(dirsUpTo('/sys/fs/cgroup', '/sys/fs/cgroup')).toEqual(['/sys/fs/cgroup']);
  });
  test('a dir outside the top (a sibling sharing a prefix): just itself, nothing above', () => {
    expect(dirsUpTo('/sys/fs/cgroup/pids2/docker/x', '/sys/fs/cgroup/pids')).toEqual(['/sys/fs/cgroup/pids2/docker/x']);
  });
});

describe('nsPidAtDepth: the PID in the container is the NSpid entry at the init\'s depth', () => {
  test('verbatim NSpid lines (test/fixtures/layout/nested-nspid.txt): a container init, an outer worker, an inner npm', () => {
    const lines = fixture('layout', 'nested-nspid.txt');
    const nspid = (label: string) => parseNsPid(lines.split('\n').find((l) => l.startsWith(`${label} `))!.slice(label.length + 1))!;
    const init = nspid('init');
    const worker = nspid('worker');
    const inner = nspid('inner-npm');
    expect(init).toHaveLength(2);
    expect(init[1]).toBe(1);
    const depth = init.length;
    expect(nsPidAtDepth(worker, depth)).toBe(worker[1]!);
    // three entries: host, container, nested; the container's kill knows only the middle one
    expect(inner).toHaveLength(3);
    expect(nsPidAtDepth(inner, depth)).toBe(inner[1]!);
    expect(nsPidAtDepth(inner, depth)).not.toBe(inner[2]!);
  });
  test('pid=host: depth 1, the host PID is the PID in the container', () => {
    expect(nsPidAtDepth([4242], 1)).toBe(4242);
  });
  test('a process not that deep is not in the container\'s namespace: null', () => {
    expect(nsPidAtDepth([4242], 2)).toBeNull();
  });
  test('an unknown depth (0) or a nonsense one gives null, never a guess', () => {
    expect(nsPidAtDepth([4242, 7], 0)).toBeNull();
    expect(nsPidAtDepth([4242, 7], 1.5)).toBeNull();
  });
});

describe('isSharedPidMode', () => {
  // Podman writes `ns:<path>` for `--pid=ns:/proc/<pid>/ns/pid` (libpod's inspect: a PID namespace
  // joined by path), e.g. the host's with /proc/1/ns/pid: shared, though not `host` nor `container:`.
  // Any form not known to be the container's own namespace is shared: not knowing is no licence.
  const rows: [string, boolean][] = [
    ['', false],
    ['private', false],
    ['host', true],
    [`container:${ID}`, true],
    ['ns:/proc/4242/ns/pid', true],
    ['ns:/proc/1/ns/pid', true],
  ];
  for (const [mode, want] of rows) test(`"${mode.replace(ID, '<id>')}" -> ${want}`, () => expect(isSharedPidMode(mode)).toBe(want));
});

describe('sharedPidNamespaceWhy: the engine\'s PidMode, then the kernel\'s NSpid of the init', () => {
  // verbatim NSpid lines (test/fixtures/layout/nested-nspid.txt)
  const nspid = (label: string) => parseNsPid(fixture('layout', 'nested-nspid.txt').split('\n').find((l) => l.startsWith(`${label} `))!.slice(label.length + 1))!;

  test('a container\'s own init is PID 1 of its namespace: not shared', () => {
    expect(nspid('init')).toEqual([31105, 1]);
    expect(sharedPidNamespaceWhy('', nspid('init'))).toBeNull();
    expect(sharedPidNamespaceWhy('private', nspid('init'))).toBeNull();
  });
  test('PidMode host or container:X says so, whatever the init\'s PID', () => {
    expect(sharedPidNamespaceWhy('host', [31105])).toBe('pid=host');
    expect(sharedPidNamespaceWhy(`container:${ID}`, nspid('worker'))).toBe(`pid=container:${ID}`);
  });
  test('an init that is not PID 1 where it lives is shared, though the engine says private', () => {
    // a pid=host container whose inspect says nothing: one NSpid entry, the host's PID
    expect(sharedPidNamespaceWhy('', [31105])).toContain('PID 31105 of its PID namespace, not 1');
    // a member of another container's (or pod's) namespace: PID 10 there
    expect(sharedPidNamespaceWhy('private', nspid('worker'))).toBe('its init is PID 10 of its PID namespace, not 1; the engine says pid=private');
  });
  test('no NSpid line to read: the engine\'s word alone', () => {
    expect(sharedPidNamespaceWhy('', null)).toBeNull();
    expect(sharedPidNamespaceWhy('host', null)).toBe('pid=host');
    expect(sharedPidNamespaceWhy('ns:/proc/4242/ns/pid', null)).toBe('pid=ns:/proc/4242/ns/pid');
  });
});

describe('startMatches: was the init seen here forked when the engine says it made and started it?', () => {
  // verbatim: this host's /proc/stat (btime line) and an init's stat field 22 with the engine's
  // State.StartedAt for the same container (test/fixtures/layout/README.md)
  const boot = parseBootTime(fixture('layout', 'proc-stat.txt'))!;
  const sample = JSON.parse(fixture('layout', 'init-start.json')) as { startTicks: number; startedAt: string };
  const forkedMs = startedAtMs(sample.startTicks, boot);
  const iso = (ms: number) => new Date(ms).toISOString();
  const NEVER_FINISHED = '0001-01-01T00:00:00Z';
  // Created is not in the capture: a second before the fork, as `docker run` does it
  const window = (over: Partial<EngineStartWindow> = {}): EngineStartWindow => ({ created: iso(forkedMs - 1000), startedAt: sample.startedAt, finishedAt: NEVER_FINISHED, ...over });

  test('the real pair matches: forked 0.55 s before StartedAt', () => {
    expect(startMatches(sample.startTicks, boot, window())).toBe(true);
    expect(Math.abs(forkedMs - Date.parse(sample.startedAt))).toBeLessThan(1500);
  });
  test('a loaded host: forked at runc create, StartedAt 12 s and 5 min later, after Created: still a match', () => {
    expect(startMatches(sample.startTicks, boot, window({ startedAt: iso(forkedMs + 12_000) }))).toBe(true);
    expect(startMatches(sample.startTicks, boot, window({ startedAt: iso(forkedMs + 300_000) }))).toBe(true);
  });
  test('the same PID having started a minute before the container was created (another machine\'s PID): no match', () => {
    expect(startMatches(sample.startTicks - 6000, boot, window())).toBe(false);
  });
  test('a restarted container: forked before its previous run finished is no match, after it is', () => {
    const created = iso(forkedMs - 86_400_000);
    const finished = forkedMs + START_TOLERANCE_MS + 10;
    expect(startMatches(sample.startTicks, boot, window({ created, finishedAt: iso(finished), startedAt: iso(finished + 1000) }))).toBe(false);
    expect(startMatches(sample.startTicks, boot, window({ created, finishedAt: iso(forkedMs - 3000) }))).toBe(true);
  });
  test('just inside and just outside the tolerance at both ends', () => {
    expect(startMatches(sample.startTicks, boot, window({ startedAt: iso(forkedMs - START_TOLERANCE_MS + 10) }))).toBe(true);
    expect(startMatches(sample.startTicks, boot, window({ startedAt: iso(forkedMs - START_TOLERANCE_MS - 10) }))).toBe(false);
    expect(startMatches(sample.startTicks, boot, window({ created: iso(forkedMs + START_TOLERANCE_MS - 10), startedAt: iso(forkedMs + START_TOLERANCE_MS) }))).toBe(true);
    expect(startMatches(sample.startTicks, boot, window({ created: iso(forkedMs + START_TOLERANCE_MS + 10), startedAt: iso(forkedMs + START_TOLERANCE_MS + 20) }))).toBe(false);
  });
  test('no Created: StartedAt plus or minus the tolerance', () => {
    expect(startMatches(sample.startTicks, boot, window({ created: '' }))).toBe(true);
    expect(startMatches(sample.startTicks, boot, window({ created: '', startedAt: iso(forkedMs + START_TOLERANCE_MS + 10) }))).toBe(false);
  });
  test('no StartedAt, or an unparsable one: no match', () => {
    expect(startMatches(sample.startTicks, boot, window({ startedAt: '' }))).toBe(false);
    expect(startMatches(sample.startTicks, boot, window({ startedAt: 'yesterday' }))).toBe(false);
  });
});

describe('judgeKillErrors: a kill that exits non-zero', () => {
  const t = (pid: number): Target => ({ pid, command: `node /app/${pid}.js` });
  const a = t(12);
  const b = t(13);
  const c = t(112);
  test('BusyBox: the PID it could not signal is a failure, the others were signalled', () => {
    const r = judgeKillErrors([a, b, c], "kill: can't kill pid 12: Operation not permitted\n");
    expect(r.targets).toEqual([b, c]);
    expect(r.failed).toEqual([a]);
    expect(r.failure).toContain('Operation not permitted');
  });
  test('procps: "No such process" is neither signalled nor failed (gone)', () => {
    const r = judgeKillErrors([a, b], 'kill: (13) - No such process\n');
    expect(r.targets).toEqual([a]);
    expect(r.failed).toEqual([]);
  });
  test('PID 12 is not PID 112: whole numbers only', () => {
    const r = judgeKillErrors([a, c], 'kill: 112: Operation not permitted\n');
    expect(r.targets).toEqual([a]);
    expect(r.failed).toEqual([c]);
  });
  test('a non-zero exit that names no PID fails them all: nobody is reported signalled on a guess', () => {
    const r = judgeKillErrors([a, b], 'kill: something odd\n');
    expect(r.targets).toEqual([]);
    expect(r.failed).toEqual([a, b]);
  });
  test('1,600 PIDs, every other one gone: the gone ones neither signalled nor failed, the rest signalled', () => {
    const live = Array.from({ length: 1600 }, (_, i) => t(1000 + i));
    const text = live.filter((_, i) => i % 2 === 1).map((x) => `kill: (${x.pid}) - No such process\n`).join('');
    const r = judgeKillErrors(live, text);
    expect(r.targets).toEqual(live.filter((_, i) => i % 2 === 0));
    expect(r.failed).toEqual([]);
  });
});
