// Read a file under test/fixtures/ as text (verbatim: no trimming, so trailing newlines stay).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dir, '..', '..', 'fixtures');

export function fixture(...parts: string[]): string {
  return readFileSync(join(FIXTURES, ...parts), 'utf8');
}

export function fixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(fixture(...parts)) as T;
}
