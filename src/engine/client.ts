// One engine connection for the whole run. The address comes from --docker-host (flag > env >
// config), then DOCKER_HOST, then the local socket. Only unix:// and tcp:// are understood:
// pidwarden runs on the Docker host, and TLS/ssh remotes can't give it /proc or the cgroup fs anyway.
import Docker from 'dockerode';
import { EngineUnreachableError, UsageError } from '../errors.ts';
import { engineMessage } from './exec.ts';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface Engine {
  docker: Docker;
  address: string;
  /** True for a unix socket: the engine runs on this machine, so /proc and the cgroup fs are its. */
  local: boolean;
  /** The API version agreed with the engine, once asked (see negotiateApi). */
  apiVersion?: string;
}

export function connectEngine(address: string): Engine {
  if (address.startsWith('unix://')) {
    const socketPath = address.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new UsageError(`--docker-host ${address}: expected unix:///absolute/path`);
    return { docker: new Docker({ socketPath }), address, local: true };
  }
  if (address.startsWith('tcp://') || address.startsWith('http://')) {
    let url: URL;
    try {
      url = new URL(address.replace(/^tcp:/, 'http:'));
    } catch {
      throw new UsageError(`--docker-host ${address}: not a valid tcp://HOST:PORT address`);
    }
    const port = Number(url.port || 2375);
    return { docker: new Docker({ host: url.hostname, port, protocol: 'http' }), address, local: false };
  }
  throw new UsageError(`--docker-host ${address}: use unix:///path/to/docker.sock or tcp://HOST:PORT`);
}

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** Socket-level failures mean the engine is gone; anything with an HTTP status is the engine talking. */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: string; statusCode?: number; errno?: number; message?: string };
  if (typeof err?.statusCode === 'number') return false;
  if (err?.code && UNREACHABLE_CODES.has(err.code)) return true;
  return /ENOENT|ECONNREFUSED|EACCES|socket|connect/i.test(String(err?.message ?? ''));
}

export function unreachable(engine: Engine, e: unknown): EngineUnreachableError {
  return new EngineUnreachableError(`cannot reach the Docker engine at ${engine.address}: ${engineMessage(e)}`);
}

/**
 * Wraps an engine call: socket failures become EngineUnreachableError (exit 3), and the agreed API
 * version is forgotten, so the next call asks again (an engine that comes back may be another one).
 */
export async function engineCall<T>(engine: Engine, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isUnreachable(e)) {
      engine.apiVersion = undefined;
      throw unreachable(engine, e);
    }
    throw e;
  }
}

/**
 * Pin the API version the engine speaks. Unversioned paths get the engine's oldest behaviour:
 * Docker 20.10 then ignores stats' one-shot=true and waits ~1 s for a second sample
 * (measured: 1.005 s unversioned, 0.033 s under /v1.41). Asked once, and again after the engine
 * was unreachable (engineCall forgets the version then).
 */
export async function negotiateApi(engine: Engine): Promise<void> {
  if (engine.apiVersion) return;
  const v = await engineCall(engine, () => engine.docker.version());
  const api = String(v.ApiVersion ?? '');
  if (/^\d+\.\d+$/.test(api)) {
    (engine.docker.modem as unknown as { version: string }).version = `v${api}`;
    engine.apiVersion = api;
  }
}
