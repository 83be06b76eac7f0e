import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION, VERSION_LINE } from '../../src/version.ts';
import { buildCommit } from '../../scripts/git-commit.ts';

const ROOT = join(import.meta.dir, '..', '..');

describe('version', () => {
  test('VERSION is package.json\'s version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  test('run from source (no build-time define): commit "unknown"', () => {
    expect(VERSION_LINE).toBe(`${VERSION} (commit unknown, ${process.platform}-${process.arch})`);
  });

  test('buildCommit: HEAD of the checkout from git (12 hex digits, "+dirty" with changes), "unknown" outside one', () => {
    const head = Bun.spawnSync(['git', '-C', ROOT, 'rev-parse', '--short=12', 'HEAD']).stdout.toString().trim();
    expect(head).toMatch(/^[0-9a-f]{12}$/);
    expect(buildCommit(ROOT)).toMatch(new RegExp(`^${head}(\\+dirty)?$`));
    const outside = mkdtempSync('/tmp/pwnogit-');
    try {
      expect(buildCommit(outside)).toBe('unknown');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
