// `pidwarden monitor`: placeholder until issue 4 lands.
import { UsageError } from '../errors.ts';
import type { CommandContext } from './context.ts';

export async function runMonitor(_ctx: CommandContext): Promise<number> {
  throw new UsageError('monitor is not implemented yet');
}
