// pidsCeiling (src/observe/pids-ceiling.ts): the tasks a container may have when a parent's limit is
// shared. The figures are those of test/integration/layouts.test.ts's shared --cgroup-parent case:
// two containers under one parent, the parent's pids.max 2 above its pids.current.
import { expect, test } from 'bun:test';
import { pidsCeiling } from '../../src/observe/pids-ceiling.ts';

const own = (max: number | null, current: number | null) => ({ dir: '/sys/fs/cgroup/pids/p/a', max, current });
const parent = (max: number | null, current: number | null) => ({ dir: '/sys/fs/cgroup/pids/p', max, current });

test('a parent shared with another container leaves only what the other does not use', () => {
  // 7 tasks here, 13 in the sibling, parent at 20 of 22: 2 more forks anywhere below it fail
  expect(pidsCeiling(7, [own(null, 7), parent(22, 20)])).toEqual({ max: 9, heldBy: '/sys/fs/cgroup/pids/p', shared: { max: 22, current: 20 } });
});

test('a parent used by this container alone: its pids.max as it is', () => {
  expect(pidsCeiling(7, [own(null, 7), parent(500, 7)])).toEqual({ max: 500, heldBy: '/sys/fs/cgroup/pids/p', shared: null });
});

test("the container's own limit when it is the tighter one; ties go to the container's own", () => {
  expect(pidsCeiling(7, [own(25, 7), parent(100, 20)])).toEqual({ max: 25, heldBy: '/sys/fs/cgroup/pids/p/a', shared: null });
  expect(pidsCeiling(7, [own(87, 7), parent(100, 20)])).toEqual({ max: 87, heldBy: '/sys/fs/cgroup/pids/p/a', shared: null });
});

test('a parent over its own limit (lowered while full) leaves nothing, not a negative room', () => {
  expect(pidsCeiling(7, [own(null, 7), parent(10, 30)]).max).toBe(0);
});

test("unknown figures: a parent's pids.current or the container's own unread counts the parent's pids.max alone", () => {
  expect(pidsCeiling(7, [own(null, 7), parent(22, null)])).toEqual({ max: 22, heldBy: '/sys/fs/cgroup/pids/p', shared: null });
  expect(pidsCeiling(null, [own(null, null), parent(22, 20)])).toEqual({ max: 22, heldBy: '/sys/fs/cgroup/pids/p', shared: null });
});

test('no limit anywhere', () => {
  expect(pidsCeiling(7, [own(null, 7), parent(null, 20)])).toEqual({ max: null, heldBy: null, shared: null });
});
