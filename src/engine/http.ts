// One GET against the engine with Bun's native fetch: the version, the container list, inspect
// and info, which every command asks and the monitor every cycle. Through dockerode (docker-modem
// on node:http) a list costs 0.67 ms of CPU; fetch over the same unix socket 0.16 ms (measured,
// 8 containers, 300 calls). At 30 containers every 0.25 s that is the difference between 11 % and
// 3 % of the monitor's CPU budget; an audit of 30 containers makes 33 such calls. Restart and stop
// go through fetch too (enginePost), for their own deadline; exec, stats and the events use dockerode.
import type { Engine } from './client.ts';
import { PidwardenError } from '../errors.ts';

/**
 * The engine answered, but with an error status or a body that is not what the API defines (an
 * HTML page from a proxy, an empty body). Callers map the statuses they expect (404: gone); what
 * reaches main.ts is the engine's fault, not pidwarden's: exit 3 with the engine's words, not 70.
 */
export class EngineHttpError extends PidwardenError {
  override readonly exitCode = 3;
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Callers wrap this in engineCall, whose deadline (--timeout) decides and says what happened; the
 * abort a second later only makes sure an abandoned request does not keep its socket.
 */
export async function engineGetJson<T>(engine: Engine, path: string, timeoutMs = engine.timeoutMs + 1000): Promise<T> {
  const res = await engineFetch(engine, 'GET', path, timeoutMs);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new EngineHttpError(res.status, `the engine's answer to GET ${path} is not JSON (HTTP ${res.status}, ${text.length} bytes)`);
  }
}

/** The container list, or an EngineHttpError when the engine answered something else (null, an object). */
export async function engineGetList<T>(engine: Engine, path: string): Promise<T[]> {
  const list = await engineGetJson<unknown>(engine, path);
  if (!Array.isArray(list)) throw new EngineHttpError(200, `the engine's answer to GET ${path} is not a list`);
  return list as T[];
}

/**
 * One POST without a body (restart, stop), answered with 204 (or 304: already stopped). A restart
 * keeps the socket silent for the whole stop timeout, which may be minutes (compose's
 * `stop_grace_period: 5m`): through dockerode the modem's one socket timeout, fixed when the
 * engine was connected, cut such a call off at --timeout + 121 s as "socket hang up" while the
 * engine went on restarting. Here the abort comes from this call's own deadline. Returns the status.
 */
export async function enginePost(engine: Engine, path: string, timeoutMs: number): Promise<number> {
  const res = await engineFetch(engine, 'POST', path, timeoutMs);
  await res.arrayBuffer(); // 204 and 304 have no body; read it anyway so the socket goes back to the pool
  return res.status;
}

async function engineFetch(engine: Engine, method: 'GET' | 'POST', path: string, timeoutMs: number): Promise<Response> {
  const versioned = engine.apiVersion ? `/v${engine.apiVersion}${path}` : path;
  let url: string;
  let init: RequestInit & { unix?: string };
  if (engine.address.startsWith('unix://')) {
    url = `http://docker${versioned}`;
    init = { unix: engine.address.slice('unix://'.length) };
  } else {
    url = engine.address.replace(/^tcp:/, 'http:').replace(/\/+$/, '') + versioned;
    init = {};
  }
  let res: Response;
  try {
    res = await fetch(url, { ...init, method, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw socketError(e, init.unix ?? new URL(url).host);
  }
  if (method === 'POST' && res.status === 304) return res;
  if (!res.ok) {
    const body = await res.text().catch(() => '');
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON: keep the text
    }
    throw new EngineHttpError(res.status, `(HTTP ${res.status}) ${message.trim()}`);
  }
  return res;
}

/**
 * Bun's fetch words a socket failure for a browser ("ENOENT: Was there a typo in the url or
 * port?"); node:http, which dockerode uses, says what happened to what: "connect ENOENT
 * /var/run/docker.sock". The same words either way, with the code kept for isUnreachable.
 */
function socketError(e: unknown, target: string): unknown {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const verb = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' ? 'connect' : 'socket';
  return Object.assign(new Error(`${verb} ${code} ${target}`), { code });
}
