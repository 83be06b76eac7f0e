// --label KEY=VALUE selects the containers whose label KEY has exactly VALUE, on every engine. The
// engine's list filter does the first cut, but engines differ: Podman's (its compat API too) takes
// an empty VALUE as "any value", where Docker's takes it as the empty value. A cron line
// `pidwarden cleanup --label com.docker.compose.project=$PROJECT` with PROJECT unset is
// `--label com.docker.compose.project=`: on Docker it selects nothing, on Podman every compose
// project's containers, which cleanup, monitor and reap then acted on.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../src/cli/settings.ts';
import { selectToAct } from '../../src/commands/select.ts';
import { ContainerLister } from '../../src/engine/containers.ts';
import { startFakeEngine, type FakeContainer } from './helpers/fake-engine.ts';

const PROJECT = 'com.docker.compose.project';
const containers: FakeContainer[] = [
  { id: 'a'.repeat(64), name: 'shop-web', labels: { [PROJECT]: 'shop' } },
  { id: 'b'.repeat(64), name: 'crm-db', labels: { [PROJECT]: 'crm' } },
  { id: 'c'.repeat(64), name: 'unnamed', labels: { [PROJECT]: '' } },
  { id: 'd'.repeat(64), name: 'standalone', labels: {} },
];
const engines = { docker: startFakeEngine(containers, 'docker'), podman: startFakeEngine(containers, 'podman') };
const procRoot = mkdtempSync(join(tmpdir(), 'pw-label-sel-'));
afterAll(() => {
  for (const e of Object.values(engines)) e.stop();
  rmSync(procRoot, { recursive: true, force: true });
});

const settings = (label: string) => resolveSettings('cleanup', { label: [label], 'proc-root': procRoot }, {}, {});

for (const [flavour, fake] of Object.entries(engines)) {
  test(`${flavour}: cleanup's selection of --label KEY= is the containers whose KEY is empty, not every value`, async () => {
    const sel = await selectToAct(fake.engine, settings(`${PROJECT}=`));
    expect(sel.infos.map((i) => i.name)).toEqual(['unnamed']);
  });

  test(`${flavour}: the monitor's listing of --label KEY= is the same, at every cycle`, async () => {
    const lister = new ContainerLister(fake.engine, { containers: [], labels: [`${PROJECT}=`] }, procRoot);
    expect((await lister.list()).map((i) => i.name)).toEqual(['unnamed']);
    expect((await lister.list()).map((i) => i.name)).toEqual(['unnamed']);
  });

  test(`${flavour}: --label KEY=VALUE and --label KEY select as before`, async () => {
    expect((await selectToAct(fake.engine, settings(`${PROJECT}=shop`))).infos.map((i) => i.name)).toEqual(['shop-web']);
    expect((await selectToAct(fake.engine, settings(PROJECT))).infos.map((i) => i.name).sort()).toEqual(['crm-db', 'shop-web', 'unnamed']);
  });
}
