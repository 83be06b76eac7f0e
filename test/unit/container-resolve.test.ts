// --container resolution against an engine that resolves a reference as Docker does: full ID,
// exact name, else an ID prefix of ANY length. pidwarden accepts only the name, the full ID or a
// prefix of at least 12 hex digits; a name that does not exist must not land on whichever
// container's ID happens to start with those letters ("db" on db24ad…).
import { afterAll, describe, expect, test } from 'bun:test';
import { selectContainers } from '../../src/engine/containers.ts';
import { UsageError } from '../../src/errors.ts';
import { startFakeEngine, type FakeContainer } from './helpers/fake-engine.ts';

const FX1: FakeContainer = { id: 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8', name: 'fx1' };
const FX2: FakeContainer = { id: 'd253fe7f9940eb4fa9bd9433c59c885b70e4ff33b42faf8a1111b379a18fddc2', name: 'fx2' };
const T2: FakeContainer = { id: 'd40e1a558cdb646dc32a8708eafb826b2ff59eaba014467cb5542839217e968f', name: 't2' };

const docker = startFakeEngine([FX1, FX2, T2], 'docker');
const podman = startFakeEngine([FX1, FX2, T2], 'podman');
afterAll(() => {
  docker.stop();
  podman.stop();
});

const idsOf = async (refs: string[]) => (await selectContainers(docker.engine, { containers: refs, labels: [] })).map((i) => i.id);

async function refused(engine: typeof docker, ref: string): Promise<string> {
  try {
    await selectContainers(engine.engine, { containers: [ref], labels: [] });
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`--container ${ref} was accepted`);
}

describe('--container: what a reference may mean', () => {
  test('the name, with or without the leading slash; the full ID; a 12-digit or longer ID prefix', async () => {
    expect(await idsOf(['fx1'])).toEqual([FX1.id]);
    expect(await idsOf(['/fx1'])).toEqual([FX1.id]);
    expect(await idsOf([FX1.id])).toEqual([FX1.id]);
    expect(await idsOf([FX1.id.slice(0, 12)])).toEqual([FX1.id]);
    expect(await idsOf([T2.id.slice(0, 20)])).toEqual([T2.id]);
  });

  test('a name that does not exist is "no such container", even where the engine resolved it as a short ID prefix', async () => {
    // the engine answers these with fx1 and t2: unique ID prefixes of 2 and 6 digits
    expect(await refused(docker, 'db')).toBe('no such container: db (an ID prefix needs at least 12 hex digits)');
    expect(await refused(docker, 'd40e1a')).toBe('no such container: d40e1a (an ID prefix needs at least 12 hex digits)');
    expect(await refused(docker, 'db24ad411a5')).toBe('no such container: db24ad411a5 (an ID prefix needs at least 12 hex digits)');
    expect(await refused(docker, 'nope')).toBe('no such container: nope');
  });

  test('an ID prefix shared by several containers: the same usage error from Docker and Podman', async () => {
    expect(await refused(docker, 'd')).toBe('ambiguous container reference: d');
    expect(await refused(podman, 'd')).toBe('ambiguous container reference: d');
  });
});
