// Pure predicates on one process, shared by the runaway, health and ladder rules.
import type { Proc } from '../types.ts';

export function isZombie(p: Proc): boolean {
  return p.state === 'Z';
}

export function matchesAny(command: string, patterns: RegExp[]): boolean {
  return patterns.some((re) => re.test(command));
}
