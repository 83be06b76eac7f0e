// The exec route's reading of nested PID namespaces' inits from `cat /proc/<pid>/status ...`.
// Fixture: three status files concatenated as cat prints them, captured on a Linux 6.1 host with
// `unshare -fp sh -c 'sleep 300 & sleep 300'`, read from the namespace above: a process of that
// namespace (NSpid: one number), the inner init (`NSpid: 8461 1`) and its child (`NSpid: 8462 2`).
import { expect, test } from 'bun:test';
import { nestedInitsFrom, parseNestedInits } from '../../src/observe/exec-nested-inits.ts';
import { fixture } from './helpers/fixtures.ts';

const text = fixture('proc-status', 'outer-inner-init-inner-child.txt');

test('the inner init is told by its NSpid ending in 1, one level down; its child and the outer process are not inits', () => {
  const r = parseNestedInits(text);
  expect([...r.inits]).toEqual([8461]);
  expect(r.withNsPid).toBe(3);
});

test('a status without NSpid (Linux before 4.1) tells nothing; an empty read neither', () => {
  const old = text.replace(/^NSpid:.*\n/gm, '');
  expect(parseNestedInits(old)).toEqual({ inits: new Set(), withNsPid: 0 });
  expect(parseNestedInits('')).toEqual({ inits: new Set(), withNsPid: 0 });
});

test('the container\'s own PID 1 (`NSpid: 1` read in the container) is no nested init', () => {
  const own = text.replace(/^Pid:\t8493$/m, 'Pid:\t1').replace(/^NSpid:\t8493$/m, 'NSpid:\t1');
  expect([...parseNestedInits(own).inits]).toEqual([8461]);
});

test('statuses without NSpid (Linux before 4.1) are no reading to act on: an inner init would look like any process', () => {
  const old = text.replace(/^NSpid:.*\n/gm, '');
  expect(() => nestedInitsFrom(old)).toThrow(/no NSpid line/);
  expect([...nestedInitsFrom(text).inits]).toEqual([8461]);
});
