// When the engine cannot start an exec's process at all (at pids.max runc cannot fork its init),
// the observation stops trying and reads the host (src/observe/processes.ts): one refused exec,
// not one per ps variant. A program that is merely missing is something else (no ps in the image).
import { describe, expect, test } from 'bun:test';
import { execRefused } from '../../src/observe/processes.ts';
import { psFixture, TOYBOX } from './helpers/fixtures.ts';

describe('execRefused', () => {
  // Not a capture: this host's engine (Docker 28, runc, cgroup v1) still runs an exec at pids.max
  // (.tmp/test-reports/pids-limit-exec.json after a run). The tail is what Docker 26 with runc on
  // cgroup v2 answered at the limit (exit 126); the prefix is runc's usual one, as in the real
  // capture of a missing program below.
  test('Docker 26 with runc at pids.max: refused', () => {
    const stdout = 'OCI runtime exec failed: exec failed: unable to start container process: read init-p: connection reset by peer: unknown\r\n';
    expect(execRefused({ exitCode: 126, stdout, stderr: '' })).toBe(true);
  });
  test('a missing program (toybox image, no sh: real capture) is not a refusal', () => {
    expect(execRefused({ exitCode: 126, stdout: psFixture(TOYBOX, 'sh-c-kill-l.txt'), stderr: '' })).toBe(false);
  });
  test('the same words from a program that ran (exit 1, 0) are its own output, not the engine\'s', () => {
    expect(execRefused({ exitCode: 1, stdout: 'read init-p: connection reset by peer', stderr: '' })).toBe(false);
    expect(execRefused({ exitCode: 0, stdout: 'resource temporarily unavailable', stderr: '' })).toBe(false);
  });
});
