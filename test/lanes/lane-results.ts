/**
 * The figures a lane's test file records for the README's "Tested hosts" table
 * (`bun scripts/lane-table.ts` prints its rows): one JSON file per lane, engine and file, written
 * when the file's tests are done, to .tmp/lane-results/ (PIDWARDEN_TEST_RESULTS_DIR overrides it;
 * the VM lanes point it at their share, scripts/vm/lane-run.sh).
 */
import { afterAll } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_KIND, REPO_ROOT } from '../integration/harness.ts';

export const LANE = process.env.PIDWARDEN_TEST_LANE ?? `adhoc-${ENGINE_KIND}`;

/** Registers the writer of `<lane>-<engine>[-<part>].json`; returns the function that records one check. */
export function laneResults(part = ''): (check: string, data: unknown) => void {
  const results: Record<string, unknown> = {};
  afterAll(() => {
    const dir = process.env.PIDWARDEN_TEST_RESULTS_DIR ?? join(REPO_ROOT, '.tmp', 'lane-results');
    mkdirSync(dir, { recursive: true });
    const name = `${LANE}-${ENGINE_KIND}${part ? `-${part}` : ''}.json`;
    writeFileSync(join(dir, name), `${JSON.stringify({ lane: LANE, engineKind: ENGINE_KIND, time: new Date().toISOString(), results }, null, 2)}\n`);
  });
  return (check, data) => {
    results[check] = data;
  };
}
