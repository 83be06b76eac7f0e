// engineCall's deadline against a real unix socket that accepts connections and never answers
// (what a wedged dockerd looks like from a client).
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, negotiateApi } from '../../src/engine/client.ts';
import { engineGetJson } from '../../src/engine/http.ts';
import { EngineUnreachableError } from '../../src/errors.ts';
import { engineCall } from '../../src/engine/client.ts';

let dir = '';
let server: ReturnType<typeof Bun.listen> | undefined;
let socket = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-mute-'));
  socket = join(dir, 'mute.sock');
  server = Bun.listen({ unix: socket, socket: { data() {}, open() {} } });
});

afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

async function elapsed(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t0 = performance.now();
  try {
    await p;
    return { ms: performance.now() - t0, error: null };
  } catch (e) {
    return { ms: performance.now() - t0, error: e };
  }
}

setDefaultTimeout(20_000);

describe('an engine that accepts and never answers', () => {
  test('dockerode path: EngineUnreachableError (exit 3) at the deadline, naming --timeout', async () => {
    const engine = connectEngine(`unix://${socket}`, { timeoutMs: 300, procRoot: '/proc' });
    const { ms, error } = await elapsed(negotiateApi(engine));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect((error as Error).message).toBe(`cannot reach the Docker engine at unix://${socket}: no answer within 0.3 s (--timeout)`);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(300 + 8000); // the deadline, not a hang (the call never returns otherwise); loose: CI shares 2 cores
  });

  test('fetch path (the monitor list): the same error at the same deadline', async () => {
    const engine = connectEngine(`unix://${socket}`, { timeoutMs: 300, procRoot: '/proc' });
    const { ms, error } = await elapsed(engineCall(engine, () => engineGetJson(engine, '/containers/json')));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect(ms).toBeLessThan(300 + 8000);
  });

  test('a restart gets the stop timeout on top of the deadline', async () => {
    const engine = connectEngine(`unix://${socket}`, { timeoutMs: 200, procRoot: '/proc' });
    const { ms, error } = await elapsed(engineCall(engine, () => new Promise(() => {}), 300));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect((error as Error).message).toContain('no answer within 0.5 s');
    expect(ms).toBeGreaterThanOrEqual(490);
  });
});
