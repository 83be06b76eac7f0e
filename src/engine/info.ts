// What the engine says about itself that matters here: whether it can enforce pids limits at all
// (GET /info → PidsLimit: false when the kernel has no pids controller for it). Asked once per run.
import { engineCall, type Engine } from './client.ts';
import { engineGetJson } from './http.ts';

export async function engineEnforcesPidsLimits(engine: Engine): Promise<boolean | null> {
  try {
    const info = await engineCall(engine, () => engineGetJson<{ PidsLimit?: unknown }>(engine, '/info'));
    return typeof info.PidsLimit === 'boolean' ? info.PidsLimit : null;
  } catch {
    return null; // a report without this one figure is still a report
  }
}
