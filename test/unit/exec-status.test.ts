import { describe, expect, test } from 'bun:test';
import { execStartFailure } from '../../src/engine/exec-status.ts';
import { psFixture, TOYBOX } from './helpers/fixtures.ts';

// stderr as the engines print it (captured on this host; Docker 26's from the v2 VM runs)
const PODMAN_AT_LIMIT =
  'Error: runc: exec failed: unable to start container process: read init-p: connection reset by peer: OCI runtime error\n' +
  'Error: read unixpacket @->/proc/self/fd/14/attach: read: connection reset by peer\n';
const DOCKER_AT_LIMIT =
  'OCI runtime exec failed: exec failed: unable to start container process: read init-p: connection reset by peer: unknown\n';
const RUNC_CRASH = 'runtime/cgo: pthread_create failed: Resource temporarily unavailable\nSIGABRT: abort\nPC=0x7f9871d90eec m=4 sigcode=18446744073709551610\n';
const PODMAN_NO_PS =
  'Error: runc: exec failed: unable to start container process: exec: "ps": executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found\n';
const DOCKER_NO_PS =
  'OCI runtime exec failed: exec failed: unable to start container process: exec: "ps": executable file not found in $PATH: unknown\n';

describe('execStartFailure: the runtime never started the program', () => {
  test.each([
    ['Podman at pids.max: exit 125', 125, PODMAN_AT_LIMIT],
    ['Podman exit 125 with nothing on stderr', 125, ''],
    ['Docker at pids.max: exit 126', 126, DOCKER_AT_LIMIT],
    ['runc crashed making a thread: exit 2', 2, RUNC_CRASH],
  ])('%s', (_, exitCode, stderr) => {
    const why = execStartFailure({ exitCode, stdout: '', stderr });
    expect(why).not.toBeNull();
    if (stderr !== '') expect(why).toBe(stderr.split('\n')[0]!.trim());
  });

  // moby's API: the error alone on the exec's stdout stream, then "\r\n"; nothing on stderr
  test.each([
    ['Docker at pids.max, over the API: exit 126, on stdout', DOCKER_AT_LIMIT.replace('\n', '\r\n')],
    ['Docker, the container stopped meanwhile: exit 126, on stdout', 'OCI runtime exec failed: exec failed: cannot exec in a stopped container: unknown\r\n'],
  ])('%s', (_, stdout) => {
    expect(execStartFailure({ exitCode: 126, stdout, stderr: '' })).toBe(stdout.trim());
  });
});

describe("execStartFailure: the program's own status", () => {
  test.each([
    ['kill sent everything', 0, '', ''],
    ['BusyBox kill: one PID had exited (exit 1)', 1, '', 'kill: can\'t kill pid 29: No such process\n'],
    ['ps printed its table', 0, 'PID   USER     COMMAND\n    1 root     node dist/index.js\n', ''],
    ['BusyBox ps rejected an option (exit 1)', 1, '', 'ps: invalid option -- \'w\'\nBusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary.\n'],
    ['no ps in the image, Podman (127: the caller\'s "no ps")', 127, '', PODMAN_NO_PS],
    ['no ps in the image, Docker (127)', 127, '', DOCKER_NO_PS],
    ['no sh in the image, Docker over the API (126, stdout: real capture)', 126, psFixture(TOYBOX, 'sh-c-kill-l.txt'), ''],
    ['a ps that ran, listing a process with these words (exit 0)', 0, '  PID  PPID COMMAND\n   41     1 sh -c echo "OCI runtime exec failed"\n', ''],
  ])('%s', (_, exitCode, stdout, stderr) => {
    expect(execStartFailure({ exitCode, stdout, stderr })).toBeNull();
  });
});
