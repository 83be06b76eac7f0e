// The monitor's listing reuses an earlier inspect while the container's init PID lives (one list
// call per cycle, not one inspect per container). A `docker rename` keeps the init PID, so the
// name must come from this cycle's listing: --exclude NAME, and every line that names the
// container, must see the name it has now.
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../src/cli/settings.ts';
import { leftOutBecause } from '../../src/commands/select.ts';
import { ContainerLister } from '../../src/engine/containers.ts';
import { FIXTURE_INIT_TICKS, startFakeEngine, writeFixtureBootTime } from './helpers/fake-engine.ts';

const ID = 'db24ad411a5b17f4ad9518597aba6f5eb141199c3ac219c40da8e3ab04cc41f8';
/** State.Pid of test/fixtures/engine/inspect.json, the fake engine's inspect. */
const INIT_PID = 6747;

const fake = startFakeEngine([{ id: ID, name: 'web' }]);
// a /proc where the init lives on (the same PID and start time): the lister keeps its cached inspect
const procRoot = mkdtempSync(join(tmpdir(), 'pw-lister-proc-'));
mkdirSync(join(procRoot, String(INIT_PID)));
writeFixtureBootTime(procRoot);
writeFileSync(join(procRoot, String(INIT_PID), 'stat'), `${INIT_PID} (node) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 11 0 ${FIXTURE_INIT_TICKS} 0 0\n`);
writeFileSync(join(procRoot, String(INIT_PID), 'cgroup'), `0::/system.slice/docker-${ID}.scope\n`);
afterAll(() => {
  fake.stop();
  rmSync(procRoot, { recursive: true, force: true });
});

const rename = (name: string) => (fake.containers[0] = { ...fake.containers[0]!, name });

test('docker rename between cycles: the monitor selects by the new name, with --exclude on either name', async () => {
  const lister = new ContainerLister(fake.engine, { containers: [], labels: [] }, procRoot);
  const cycle = async (exclude: string[]) => {
    const s = resolveSettings('monitor', { all: true, exclude }, {}, {});
    return (await lister.list()).filter((i) => !leftOutBecause(i, s)).map((i) => i.name);
  };
  expect(await cycle(['web-old'])).toEqual(['web']);
  rename('web-old');
  expect(await cycle(['web-old'])).toEqual([]);
  expect(await cycle(['web'])).toEqual(['web-old']);
  rename('web');
  expect(await cycle(['web-old'])).toEqual(['web']);
  // one inspect in all and the one that confirmed it: the cache was used, only the name came from the listing
  expect(fake.asked.filter((p) => p === `/containers/${ID}/json`).length).toBe(2);
});
