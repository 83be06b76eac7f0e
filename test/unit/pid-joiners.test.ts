// Which PidMode joins a container's PID namespace: the forms the API keeps as given
// (docker run --pid=container:<name|ID|ID prefix>; compose writes container:<ID>).
import { describe, expect, test } from 'bun:test';
import { joinersAmong, joins } from '../../src/engine/pid-joiners.ts';

const X = { id: 'f3a2c1d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00', name: 'metamcp' };

describe('joins', () => {
  test('by name, with or without the API\'s leading slash', () => {
    expect(joins('container:metamcp', X)).toBe(true);
    expect(joins('container:/metamcp', X)).toBe(true);
  });
  test('by full ID and by an ID prefix', () => {
    expect(joins(`container:${X.id}`, X)).toBe(true);
    expect(joins('container:f3a2c1d4e5b6', X)).toBe(true);
  });
  test('its own namespace, the host\'s, another container\'s: no', () => {
    for (const mode of ['', 'host', 'private', 'container:', 'container:other', 'container:0000', 'container:metamcp2']) expect(joins(mode, X)).toBe(false);
  });
});

describe('joinersAmong', () => {
  const other = { id: 'a'.repeat(64), name: 'other', pidMode: '' };
  const owner = { ...X, pidMode: '' };
  test('the containers whose PidMode names the target, by name or ID', () => {
    const modes = [owner, other, { id: 'b'.repeat(64), name: 'sidecar', pidMode: 'container:metamcp' }, { id: 'c'.repeat(64), name: 'agent', pidMode: `container:${X.id}` }];
    expect(joinersAmong(modes, X)).toEqual(['agent', 'sidecar']);
    expect(joinersAmong(modes, other)).toEqual([]);
  });
  test('a joiner whose PidMode names no running container (its target renamed since): cannot be told, refused', () => {
    const renamed = { ...owner, name: 'metamcp-old' };
    const modes = [renamed, other, { id: 'b'.repeat(64), name: 'sidecar', pidMode: 'container:metamcp' }];
    expect(() => joinersAmong(modes, renamed)).toThrow('names no running container');
    expect(() => joinersAmong(modes, other)).toThrow('renamed since?');
  });
});
