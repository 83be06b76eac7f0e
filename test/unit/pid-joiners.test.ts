// Which PidMode joins a container's PID namespace: the forms the API keeps as given
// (docker run --pid=container:<name|ID|ID prefix>; compose writes container:<ID>).
import { describe, expect, test } from 'bun:test';
import { joins } from '../../src/engine/pid-joiners.ts';

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
