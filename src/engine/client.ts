// One engine connection for the whole run. The address comes from --docker-host (flag > env >
// config), then DOCKER_HOST, then the local socket. Only unix:// and tcp:// are understood:
// pidwarden runs on the Docker host, and TLS/ssh remotes can't give it /proc or the cgroup fs anyway.
import type Docker from 'dockerode';
import { EngineUnreachableError, UsageError } from '../errors.ts';
import { engineMessage } from './exec.ts';
import { engineGetJson } from './http.ts';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface Engine {
  docker: Docker;
  address: string;
  /** True for a unix socket: the engine runs on this machine, so /proc and the cgroup fs are its. */
  local: boolean;
  /** The API version agreed with the engine, once asked (see negotiateApi). */
  apiVersion?: string;
  /** --timeout: how long one engine call or one probe in a container may take. */
  timeoutMs: number;
  /** The host's /proc (--proc-root), to kill a timed-out exec's process; null for a remote engine. */
  hostProcRoot: string | null;
}

export interface ConnectOptions {
  timeoutMs: number;
  procRoot: string;
}

/** Without options (tests, scripts): 10 s, the --timeout default, and the host's /proc. */
const DEFAULT_CONNECT: ConnectOptions = { timeoutMs: 10_000, procRoot: '/proc' };

/** The Engine a Docker client belongs to, so exec (which is handed only the client) knows its deadline and host. */
const engineOfDocker = new WeakMap<Docker, Engine>();

export function engineOf(docker: Docker): Engine | undefined {
  return engineOfDocker.get(docker);
}

export function connectEngine(address: string, opts: ConnectOptions = DEFAULT_CONNECT): Engine {
  return makeEngine(address, opts);
}

// docker-modem's own timeout destroys a request's socket after that long without a byte. It is
// set a second past the deadline of the calls that go through dockerode (exec and stats: engineCall's
// --timeout, which decides and says what happened), so that a request abandoned because the engine
// never answered does not keep its socket: a monitor retrying a hung engine every few seconds for
// days would otherwise hold one more socket each time. Restart and stop, silent for the whole
// stop timeout, go through fetch with their own deadline (src/engine/http.ts, enginePost).
const SOCKET_GRACE_MS = 1000;

function makeEngine(address: string, opts: ConnectOptions): Engine {
  const timeout = opts.timeoutMs + SOCKET_GRACE_MS;
  if (address.startsWith('unix://')) {
    const socketPath = address.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new UsageError(`--docker-host ${address}: expected unix:///absolute/path`);
    return withLazyDocker({ address, local: true, timeoutMs: opts.timeoutMs, hostProcRoot: opts.procRoot }, { socketPath, timeout });
  }
  if (address.startsWith('tcp://') || address.startsWith('http://')) {
    let url: URL;
    try {
      url = new URL(address.replace(/^tcp:/, 'http:'));
    } catch {
      throw new UsageError(`--docker-host ${address}: not a valid tcp://HOST:PORT address`);
    }
    const port = Number(url.port || 2375);
    return withLazyDocker({ address, local: false, timeoutMs: opts.timeoutMs, hostProcRoot: null }, { host: url.hostname, port, protocol: 'http', timeout });
  }
  throw new UsageError(`--docker-host ${address}: use unix:///path/to/docker.sock or tcp://HOST:PORT`);
}

/** The dockerode client of each engine, once something asked for it. */
const dockerOfEngine = new WeakMap<Engine, Docker>();

/**
 * dockerode is loaded and its client made on first use: the version, the list, inspect and info go
 * through fetch (http.ts), so an audit on the host route, and a monitor cycle of healthy
 * containers, never need it. Loading it (with docker-modem, ssh2 and grpc-js) costs 14-27 ms of
 * every start (measured on the compiled binary).
 */
function withLazyDocker(fields: Omit<Engine, 'docker'>, options: Docker.DockerOptions): Engine {
  const engine = fields as Engine;
  Object.defineProperty(engine, 'docker', {
    enumerable: true,
    get(): Docker {
      let docker = dockerOfEngine.get(engine);
      if (!docker) {
        const DockerClient = require('dockerode') as typeof Docker;
        docker = new DockerClient(options);
        dockerOfEngine.set(engine, docker);
        engineOfDocker.set(docker, engine);
        pinModemVersion(engine);
      }
      return docker;
    },
  });
  return engine;
}

/** dockerode's paths carry the agreed API version too (negotiateApi), once its client exists. */
function pinModemVersion(engine: Engine): void {
  const docker = dockerOfEngine.get(engine);
  if (docker && engine.apiVersion) (docker.modem as unknown as { version: string }).version = `v${engine.apiVersion}`;
}

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** Socket-level failures mean the engine is gone; anything with an HTTP status is the engine talking. */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: string; statusCode?: number; errno?: number; message?: string };
  if (typeof err?.statusCode === 'number') return false;
  if (err?.code && UNREACHABLE_CODES.has(err.code)) return true;
  return /ENOENT|ECONNREFUSED|EACCES|socket|connect/i.test(String(err?.message ?? ''));
}

/** The engine is gone, whether a call already said so (EngineUnreachableError) or the socket did. */
export function isEngineLost(e: unknown): boolean {
  return e instanceof EngineUnreachableError || isUnreachable(e);
}

export function unreachable(engine: Engine, e: unknown): EngineUnreachableError {
  return new EngineUnreachableError(`cannot reach the Docker engine at ${engine.address}: ${engineMessage(e)}`);
}

/** An engine that accepted the connection but did not answer in time. */
export class EngineTimeoutError extends Error {}

/**
 * Wraps an engine call: socket failures become EngineUnreachableError (exit 3), and the agreed API
 * version is forgotten, so the next call asks again (an engine that comes back may be another one).
 * The call has a deadline, --timeout plus `extraMs` (a restart also waits for the stop timeout):
 * an engine that accepts the connection and never answers is as unreachable as one that refuses it.
 * A call refused for its API version is asked once more, unversioned, with a deadline of its own.
 */
export async function engineCall<T>(engine: Engine, call: () => Promise<T>, extraMs = 0): Promise<T> {
  try {
    return await engineCallOnce(engine, call, extraMs);
  } catch (e) {
    if (!engine.apiVersion || !refusesApiVersion(e)) throw e;
    // The engine was upgraded (or replaced) under a running pidwarden without ever being
    // unreachable to it: with systemd's docker.socket the socket stays open through a dockerd
    // restart of a few seconds, which a monitor asking every 30 s rarely sees. Docker 29 refuses
    // API versions below 1.44 and an older engine those above its own, with a 400 before the
    // handler runs (nothing was done). Kept, the version agreed with the old engine failed every
    // call for good. Forgotten, the call is asked once more unversioned (the engine's own
    // version), and the next negotiateApi agrees on the new one.
    forgetApiVersion(engine);
    return await engineCallOnce(engine, call, extraMs);
  }
}

/** moby's versions middleware: "client version 1.43 is too old. Minimum supported API version is 1.44, ..." (or "too new. Maximum ..."), HTTP 400. */
function refusesApiVersion(e: unknown): boolean {
  return (e as { statusCode?: unknown })?.statusCode === 400 && /client version \S+ is too (old|new)/i.test(engineMessage(e));
}

/** The agreed version forgotten, dockerode's paths included: the next calls go unversioned until negotiateApi asks again. */
function forgetApiVersion(engine: Engine): void {
  engine.apiVersion = undefined;
  const docker = dockerOfEngine.get(engine);
  if (docker) (docker.modem as unknown as { version?: string }).version = undefined;
}

async function engineCallOnce<T>(engine: Engine, call: () => Promise<T>, extraMs: number): Promise<T> {
  const limitMs = engine.timeoutMs + extraMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EngineTimeoutError(`no answer within ${formatSeconds(limitMs)} (--timeout)`)), limitMs);
  });
  // a call that throws before its promise exists (dockerode loaded on first use) is a rejection
  // too: thrown from here, it left the deadline armed, and its rejection 10 s later had no handler
  const work = new Promise<T>((resolve) => resolve(call()));
  try {
    return await Promise.race([work, deadline]);
  } catch (e) {
    if (e instanceof EngineTimeoutError || isUnreachable(e)) {
      engine.apiVersion = undefined;
      throw unreachable(engine, e);
    }
    throw e;
  } finally {
    clearTimeout(timer);
    work.catch(() => {}); // the loser of the race must not become an unhandled rejection
  }
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Pin the API version the engine speaks. Unversioned paths get the engine's oldest behaviour:
 * Docker 20.10 then ignores stats' one-shot=true and waits ~1 s for a second sample
 * (measured: 1.005 s unversioned, 0.033 s under /v1.41). Asked once, and again after the engine
 * was unreachable (engineCall forgets the version then).
 */
export async function negotiateApi(engine: Engine): Promise<void> {
  if (engine.apiVersion) return;
  const v = await engineCall(engine, () => engineGetJson<{ ApiVersion?: unknown }>(engine, '/version'));
  const api = String(v.ApiVersion ?? '');
  if (/^\d+\.\d+$/.test(api)) {
    engine.apiVersion = api;
    pinModemVersion(engine);
  }
}
