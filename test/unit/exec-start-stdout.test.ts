// moby's API writes an exec's start error to the exec's stdout stream, not stderr, and sets exit
// 126. A fake engine on a unix socket answers every exec that way; the caller must hear "could
// not start" at the first exec: not run the next ps variants (each another failed start), and not
// take a `cat` that never ran for "no cat in the container".
import { afterAll, beforeEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execLiveness } from '../../src/act/identity.ts';
import { connectEngine } from '../../src/engine/client.ts';
import { readProcesses } from '../../src/observe/processes.ts';

const ID = 'c'.repeat(64);
/** runc's words for an exec into a container that stopped meanwhile, as moby passes them on. */
const STOPPED = 'OCI runtime exec failed: exec failed: cannot exec in a stopped container: unknown';
/** Docker 26 with runc at pids.max (src/observe/processes.ts, EXEC_REFUSED). */
const AT_LIMIT = 'OCI runtime exec failed: exec failed: unable to start container process: read init-p: connection reset by peer: unknown';

let engineLine = STOPPED;
/** The argv of each exec created, in order. */
let created: string[][] = [];

/** One frame of the engine's multiplexed stream (stdcopy): 1 = stdout, then the length, big-endian. */
function stdoutFrame(text: string): Uint8Array<ArrayBuffer> {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(body.length, 4);
  return new Uint8Array(Buffer.concat([header, body]));
}

const dir = mkdtempSync(join(tmpdir(), 'pw-exec-stdout-'));
const socket = join(dir, 'engine.sock');
const server = Bun.serve({
  unix: socket,
  async fetch(req) {
    const path = new URL(req.url).pathname.replace(/^\/v[\d.]+/, '');
    if (req.method === 'POST' && path === `/containers/${ID}/exec`) {
      created.push(((await req.json()) as { Cmd: string[] }).Cmd);
      return Response.json({ Id: `e${created.length}` }, { status: 201 });
    }
    if (req.method === 'POST' && /^\/exec\/e\d+\/start$/.test(path)) {
      // as moby's postContainerExecStart: the error, then "\r\n", on stdout
      return new Response(stdoutFrame(`${engineLine}\r\n`), { status: 200, headers: { 'content-type': 'application/vnd.docker.raw-stream' } });
    }
    if (req.method === 'GET' && /^\/exec\/e\d+\/json$/.test(path)) return Response.json({ ExitCode: 126, Running: false, Pid: 0 });
    return Response.json({ message: 'page not found' }, { status: 404 });
  },
});
const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  created = [];
});

test('ps: one exec, and the engine\'s line as the reason, not three more ps variants', async () => {
  engineLine = STOPPED;
  const read = readProcesses(engine, ID, null, { execTimeoutMs: 5000, procRoot: '/nonexistent' });
  await expect(read).rejects.toThrow(`exec of ps could not start: ${STOPPED}`);
  expect(created).toHaveLength(1);
});

test('cat for the identity check at pids.max: could not start, not "no cat in the container"', async () => {
  engineLine = AT_LIMIT;
  const check = execLiveness(engine, ID, [{ pid: 17, startTicks: 5000, command: 'npm exec figma-mcp' }], 5000);
  await expect(check).rejects.toThrow(`exec of cat could not start: ${AT_LIMIT}`);
  expect(created).toEqual([['cat', '/proc/17/stat']]);
});
