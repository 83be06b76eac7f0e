// engineCall's deadline against a real unix socket that accepts connections and never answers
// (what a wedged dockerd looks like from a client).
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, negotiateApi } from '../../src/engine/client.ts';
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
  test('dockerode path (exec, stats, restart): EngineUnreachableError (exit 3) at the deadline, naming --timeout', async () => {
    const engine = connectEngine(`unix://${socket}`, { timeoutMs: 300, procRoot: '/proc' });
    const docker = engine.docker; // made on first use (client.ts): loading dockerode is not the call
    const { ms, error } = await elapsed(engineCall(engine, () => docker.info()));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect((error as Error).message).toBe(`cannot reach the Docker engine at unix://${socket}: no answer within 0.3 s (--timeout)`);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(300 + 8000); // the deadline, not a hang (the call never returns otherwise); loose: CI shares 2 cores
  });

  test('fetch path (version, list, inspect, info): the same error at the same deadline', async () => {
    const engine = connectEngine(`unix://${socket}`, { timeoutMs: 300, procRoot: '/proc' });
    const { ms, error } = await elapsed(negotiateApi(engine));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect((error as Error).message).toBe(`cannot reach the Docker engine at unix://${socket}: no answer within 0.3 s (--timeout)`);
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

describe('a call that throws before its promise exists', () => {
  test('is that call\'s rejection, and leaves no deadline armed (whose rejection would come later, unhandled: exit 70)', async () => {
    const engine = connectEngine(`unix://${socket}`, { timeoutMs: 100, procRoot: '/proc' });
    // every timer set during the call, and every one cleared: the deadline must be among the cleared
    const set = new Set<unknown>();
    const cleared = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    globalThis.setTimeout = ((...args: Parameters<typeof realSet>) => {
      const t = realSet(...args);
      set.add(t);
      return t;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((t: Parameters<typeof realClear>[0]) => {
      cleared.add(t);
      realClear(t);
    }) as typeof clearTimeout;
    let error: unknown;
    try {
      ({ error } = await elapsed(
        engineCall(engine, () => {
          throw new Error('dockerode could not be loaded');
        }),
      ));
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    }
    expect((error as Error).message).toBe('dockerode could not be loaded');
    expect(set.size).toBeGreaterThan(0);
    expect([...set].filter((t) => !cleared.has(t))).toEqual([]);
  });
});

describe('an engine that is not there', () => {
  test('no socket file: exit 3 in the words node:http uses, whatever the client (fetch here)', async () => {
    const missing = join(dir, 'absent.sock');
    const engine = connectEngine(`unix://${missing}`, { timeoutMs: 5000, procRoot: '/proc' });
    const { error } = await elapsed(negotiateApi(engine));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect((error as Error).message).toBe(`cannot reach the Docker engine at unix://${missing}: connect ENOENT ${missing}`);
  });

  test('nothing listens on the TCP port: connect ECONNREFUSED HOST:PORT', async () => {
    // a port bound and closed at once: nothing listens there afterwards
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const engine = connectEngine(`tcp://127.0.0.1:${port}`, { timeoutMs: 5000, procRoot: '/proc' });
    const { error } = await elapsed(negotiateApi(engine));
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect((error as Error).message).toBe(`cannot reach the Docker engine at tcp://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});
