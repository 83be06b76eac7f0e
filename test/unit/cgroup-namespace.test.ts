import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outsideCgroupNamespace, PRIVATE_CGROUPNS_HINT, privateCgroupNamespaceHint } from '../../src/observe/cgroup-namespace.ts';
import { fixture } from './helpers/fixtures.ts';

const DIR = 'cgroup/private-namespace';

describe('a containerized pidwarden in a private cgroup namespace', () => {
  test('another container read through --pid=host with --cgroupns=private: paths start with /..', () => {
    expect(outsideCgroupNamespace(fixture(DIR, 'proc-pid-cgroup.cgroupns-private.txt'))).toBe(true);
  });

  test('the same container read with --cgroupns=host: real paths, no complaint', () => {
    expect(outsideCgroupNamespace(fixture(DIR, 'proc-pid-cgroup.cgroupns-host.txt'))).toBe(false);
    expect(outsideCgroupNamespace(fixture('cgroup/v2-docker26-systemd/proc-pid-cgroup.txt'))).toBe(false);
    expect(outsideCgroupNamespace(fixture('cgroup/v1-hybrid-cgroupfs/proc-pid-cgroup.pids-limit-25.txt'))).toBe(false);
  });

  test('its own /proc/self/cgroup is its root, "/": not outside', () => {
    expect(outsideCgroupNamespace(fixture(DIR, 'proc-self-cgroup.cgroupns-private.txt'))).toBe(false);
  });

  test('the problem an audit shows names the cause and the fix', () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-cgns-'));
    try {
      mkdirSync(join(root, '4242'));
      writeFileSync(join(root, '4242', 'cgroup'), fixture(DIR, 'proc-pid-cgroup.cgroupns-private.txt'));
      const reason = privateCgroupNamespaceHint(root, 4242);
      expect(reason).toBe(PRIVATE_CGROUPNS_HINT);
      expect(reason).toContain('--cgroupns host');
      expect(reason).toContain('cgroup: host');
      writeFileSync(join(root, '4242', 'cgroup'), fixture(DIR, 'proc-pid-cgroup.cgroupns-host.txt'));
      expect(privateCgroupNamespaceHint(root, 4242)).toBeNull();
      expect(privateCgroupNamespaceHint(root, 999999)).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
