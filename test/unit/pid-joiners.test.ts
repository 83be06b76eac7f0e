// Which PidMode joins a container's PID namespace: the forms the API keeps as given
// (docker run --pid=container:<name|ID|ID prefix>; compose writes container:<ID>).
import { describe, expect, test } from 'bun:test';
import { joinersAmong, joinersOf, joins } from '../../src/engine/pid-joiners.ts';

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

/** `docker run --name metamcp` at 10:00:00, its joiners started a minute later. */
const CREATED_MS = Date.parse('2026-11-21T10:00:00Z');
const JOINER_STARTED = '2026-11-21T10:01:00.123456789Z';
const listed = (c: { id: string; name: string }, pidMode = '', createdMs = CREATED_MS, startedAt = '') => ({ ...c, pidMode, createdMs, startedAt });

describe('joinersAmong', () => {
  const other = listed({ id: 'a'.repeat(64), name: 'other' });
  const owner = listed(X);
  test('the containers whose PidMode names the target, by name or ID', () => {
    const modes = [owner, other, listed({ id: 'b'.repeat(64), name: 'sidecar' }, 'container:metamcp', CREATED_MS, JOINER_STARTED), listed({ id: 'c'.repeat(64), name: 'agent' }, `container:${X.id}`, CREATED_MS, JOINER_STARTED)];
    expect(joinersAmong(modes, X)).toEqual(['agent', 'sidecar']);
    expect(joinersAmong(modes, other)).toEqual([]);
  });
  test('a joiner whose PidMode names no running container (its target renamed since): cannot be told, refused', () => {
    const renamed = { ...owner, name: 'metamcp-old' };
    const modes = [renamed, other, listed({ id: 'b'.repeat(64), name: 'sidecar' }, 'container:metamcp', CREATED_MS, JOINER_STARTED)];
    expect(() => joinersAmong(modes, renamed)).toThrow('names no running container');
    expect(() => joinersAmong(modes, other)).toThrow('renamed since?');
  });
});

// `docker run --name metamcp; docker run --name sidecar --pid=container:metamcp; docker rename
// metamcp metamcp-old; docker run --name metamcp`: the sidecar's PidMode now names the new
// metamcp, but it is in metamcp-old's namespace, where metamcp-old's ps lists its processes.
describe('joinersOf: a ref that names a container created after the joiner started', () => {
  const renamed = listed({ ...X, name: 'metamcp-old' });
  const sidecar = listed({ id: 'b'.repeat(64), name: 'sidecar' }, 'container:metamcp', CREATED_MS + 1_000, JOINER_STARTED);
  const newer = listed({ id: 'd'.repeat(64), name: 'metamcp' }, '', Date.parse('2026-11-21T10:05:00Z'));
  test('is not the one joined: the joiner is unresolved, and no joiner of the new container', () => {
    expect(joinersOf([renamed, sidecar, newer], renamed)).toEqual({ joiners: [], unresolved: [sidecar] });
    expect(joinersOf([renamed, sidecar, newer], newer)).toEqual({ joiners: [], unresolved: [sidecar] });
    expect(() => joinersAmong([renamed, sidecar, newer], renamed)).toThrow('names no running container created before it started');
  });
  test('the joiner restarted since joins the new one: resolved to it', () => {
    const restarted = { ...sidecar, startedAt: '2026-11-21T10:06:00Z' };
    expect(joinersOf([renamed, restarted, newer], newer)).toEqual({ joiners: ['sidecar'], unresolved: [] });
    expect(joinersOf([renamed, restarted, newer], renamed)).toEqual({ joiners: [], unresolved: [] });
  });
  test('an old name of hex letters that an ID created later starts with: unresolved as well', () => {
    const cafe = listed({ id: 'e'.repeat(64), name: 'cafe-old' });
    const joiner = listed({ id: 'b'.repeat(64), name: 'sidecar' }, 'container:cafe', CREATED_MS + 1_000, JOINER_STARTED);
    const laterId = listed({ id: `cafe${'0'.repeat(60)}`, name: 'cache' }, '', Date.parse('2026-11-21T10:05:00Z'));
    expect(joinersOf([cafe, joiner, laterId], cafe)).toEqual({ joiners: [], unresolved: [joiner] });
  });
  test('times not known: a joiner of what it names, and unresolved too', () => {
    const unknown = { ...sidecar, startedAt: '' };
    expect(joinersOf([renamed, unknown, newer], newer)).toEqual({ joiners: ['sidecar'], unresolved: [unknown] });
    const noCreated = { ...newer, createdMs: Number.NaN };
    expect(joinersOf([renamed, sidecar, noCreated], noCreated)).toEqual({ joiners: ['sidecar'], unresolved: [sidecar] });
  });
});

// Podman's `--pid=ns:/proc/<pid>/ns/pid` joins a PID namespace by path, and its inspect says
// `ns:<path>` (libpod's inspect), never `container:`. The path names a process at the moment of
// creation, not a container: which container's namespace it is cannot be told from a listing.
describe('joinersOf: a PID namespace joined by path (Podman ns:<path>)', () => {
  const owner = listed(X);
  const byPath = listed({ id: 'b'.repeat(64), name: 'tracer' }, 'ns:/proc/4242/ns/pid', CREATED_MS + 1_000, JOINER_STARTED);
  test('unresolved: any container may be the one joined, so a remote restart is withheld', () => {
    expect(joinersOf([owner, byPath], X)).toEqual({ joiners: [], unresolved: [byPath] });
    expect(() => joinersAmong([owner, byPath], X)).toThrow('tracer (ns:/proc/4242/ns/pid) joins a PID namespace by path');
  });
});

// The listing's Created is Unix seconds (the fraction cut off), the joiner's StartedAt is RFC 3339
// with nanoseconds. `docker rename metamcp metamcp-old; docker run --name metamcp` right after the
// sidecar started: the new metamcp is created 0.6 s after the sidecar's start, in the same second,
// and the listing says 10:01:00, which reads as before 10:01:00.123. Taken for the one joined, it
// took the sidecar away from metamcp-old, whose ps (remote) lists the sidecar's processes and
// whose restart kills them.
describe('joinersOf: a holder created in the same second as the joiner started', () => {
  const renamed = listed({ ...X, name: 'metamcp-old' });
  const sidecar = listed({ id: 'b'.repeat(64), name: 'sidecar' }, 'container:metamcp', CREATED_MS + 1_000, JOINER_STARTED);
  const CREATED_AT = Date.parse('2026-11-21T10:01:00.723Z');
  test('by the listing alone (whole seconds): cannot tell which came first, so unresolved', () => {
    const newer = listed({ id: 'd'.repeat(64), name: 'metamcp' }, '', Math.floor(CREATED_AT / 1000) * 1000);
    expect(joinersOf([renamed, sidecar, newer], renamed)).toEqual({ joiners: [], unresolved: [sidecar] });
    expect(() => joinersAmong([renamed, sidecar, newer], renamed)).toThrow('names no running container created before it started');
    // the new one still counts it as a joiner: it may be (more caution, no harm)
    expect(joinersOf([renamed, sidecar, newer], newer).joiners).toEqual(['sidecar']);
  });
  test('with the inspect\'s Created (to the millisecond): created after the start, not the one joined', () => {
    const newer = { ...listed({ id: 'd'.repeat(64), name: 'metamcp' }, '', CREATED_AT), createdExact: true };
    expect(joinersOf([renamed, sidecar, newer], renamed)).toEqual({ joiners: [], unresolved: [sidecar] });
    expect(joinersOf([renamed, sidecar, newer], newer)).toEqual({ joiners: [], unresolved: [sidecar] });
  });
  test('compose creating the owner and starting its sidecar within one second: resolved by the exact time', () => {
    const owner = { ...listed(X, '', Date.parse('2026-11-21T10:01:00.050Z')), createdExact: true };
    expect(joinersOf([owner, sidecar], X)).toEqual({ joiners: ['sidecar'], unresolved: [] });
    // by the listing alone the same pair cannot be told apart: the joiner is counted, and unresolved
    const truncated = listed(X, '', Date.parse('2026-11-21T10:01:00Z'));
    expect(joinersOf([truncated, sidecar], X)).toEqual({ joiners: ['sidecar'], unresolved: [sidecar] });
  });
});
