// --container references in the monitor: an ID (prefix) is pinned at the first cycle to the full ID
// it meant then; a name is followed to whatever container carries it. Listings: the engine's real
// /containers/json (test/fixtures/engine/list.json, three containers whose IDs all start with "d").
import { describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { refersTo, type ContainerInfo, type ResolvedReference } from '../../src/engine/containers.ts';
import { fixtureJson } from './helpers/fixtures.ts';

const listed = fixtureJson<Docker.ContainerInfo[]>('engine', 'list.json');
const fx1 = listed.find((c) => c.Names.includes('/fx1'))!;
const fx2 = listed.find((c) => c.Names.includes('/fx2'))!;

function info(c: Docker.ContainerInfo): ContainerInfo {
  return { id: c.Id, name: c.Names[0]!.slice(1), image: c.Image, state: c.State, labels: c.Labels, initPid: 100, running: true, pidMode: '', created: '', startedAt: '', finishedAt: '', user: '' };
}

/** A container created after the first cycle, whose ID starts with the same 12 characters as fx1's. */
function lookalike(of: Docker.ContainerInfo, name: string): Docker.ContainerInfo {
  return { ...of, Id: of.Id.slice(0, 12) + 'f'.repeat(52), Names: [`/${name}`] };
}

describe('refersTo', () => {
  test('an ID prefix is pinned: the container it meant, and never a later one with the same prefix', () => {
    const pin: ResolvedReference = { ref: fx1.Id.slice(0, 12), info: info(fx1), byName: false };
    expect(refersTo(pin, fx1)).toBe(true);
    expect(refersTo(pin, lookalike(fx1, 'newcomer'))).toBe(false);
    expect(refersTo(pin, fx2)).toBe(false);
  });

  test('a short prefix that several listed IDs share still means only the pinned one', () => {
    expect(listed.filter((c) => c.Id.startsWith('d')).length).toBe(3);
    const pin: ResolvedReference = { ref: fx1.Id.slice(0, 4), info: info(fx1), byName: false };
    expect(listed.filter((c) => refersTo(pin, c)).map((c) => c.Id)).toEqual([fx1.Id]);
  });

  test('a full ID is pinned too', () => {
    const pin: ResolvedReference = { ref: fx2.Id, info: info(fx2), byName: false };
    expect(listed.filter((c) => refersTo(pin, c)).map((c) => c.Names[0])).toEqual(['/fx2']);
  });

  test('a name follows the container that carries it, also one recreated under that name', () => {
    const pin: ResolvedReference = { ref: 'fx1', info: info(fx1), byName: true };
    expect(refersTo(pin, fx1)).toBe(true);
    const recreated = { ...lookalike(fx2, 'fx1') };
    expect(refersTo(pin, recreated)).toBe(true);
    expect(refersTo(pin, fx2)).toBe(false);
  });

  test('the name given with the leading slash the API uses is the same name', () => {
    const pin: ResolvedReference = { ref: '/fx2', info: info(fx2), byName: true };
    expect(refersTo(pin, fx2)).toBe(true);
  });
});
