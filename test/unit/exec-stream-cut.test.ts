// An exec's output comes in the engine's frames (an 8-byte header, then that many bytes). A stream
// that ends inside a frame was cut (the connection dropped, a proxy timed out), and the exec's
// inspect still gives the exit status of a program that ran to its end. A fake engine on a unix
// socket answers the start as Docker does (101, then the frames on the raw connection) and ends
// the stream in the middle of its second frame: before, the `ps` read as a complete table of the
// rows that came (exit 0), the cut frame dropped without a word.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../../src/engine/client.ts';
import { execInContainer, FrameReader } from '../../src/engine/exec.ts';

const ID = 'e'.repeat(64);

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

const HEAD = 'PID PPID COMMAND\n1 0 node /app/server.js\n';
const ROWS = Array.from({ length: 40 }, (_, i) => `${i + 2} 1 npm exec some-mcp-server\n`).join('');
/** Whether the start's stream ends whole or inside its second frame. */
let cut = true;

const dir = mkdtempSync(join(tmpdir(), 'pw-exec-cut-'));
const socket = join(dir, 'engine.sock');
const server = Bun.listen({
  unix: socket,
  socket: {
    data(sock, data) {
      const line = data.toString().split('\r\n')[0]!;
      const json = (status: string, body: unknown) => {
        const text = JSON.stringify(body);
        sock.write(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      };
      if (/^POST \S*\/containers\/e+\/exec /.test(line)) return json('201 Created', { Id: 'x1' });
      if (/^POST \S*\/exec\/x1\/start /.test(line)) {
        const second = frame(1, ROWS);
        const frames = Buffer.concat([frame(1, HEAD), cut ? second.subarray(0, 8 + 100) : second]);
        sock.write(Buffer.concat([Buffer.from('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n'), frames]));
        sock.end();
        return;
      }
      if (/^GET \S*\/exec\/x1\/json /.test(line)) return json('200 OK', { ExitCode: 0, Running: false, Pid: 0 });
      json('404 Not Found', { message: 'page not found' });
    },
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe('an exec whose stream is cut inside a frame', () => {
  const engine = connectEngine(`unix://${socket}`, { timeoutMs: 5000, procRoot: '/nonexistent' });

  test('is a failed exec, not the program\'s (shorter) output', async () => {
    cut = true;
    await expect(execInContainer(engine.docker, ID, ['ps'], { timeoutMs: 5000 })).rejects.toThrow("exec of ps failed: the engine's stream ended inside a frame (108 bytes of it came): its output is cut");
  });

  test('the same stream whole is read whole', async () => {
    cut = false;
    const r = await execInContainer(engine.docker, ID, ['ps'], { timeoutMs: 5000 });
    expect(r).toEqual({ exitCode: 0, stdout: HEAD + ROWS, stderr: '' });
  });
});

describe('FrameReader', () => {
  test('frames split anywhere across chunks, and several in one chunk', () => {
    const bytes = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, 'out two\n'), frame(1, '')]);
    for (let size = 1; size <= bytes.length; size++) {
      const r = new FrameReader();
      for (let off = 0; off < bytes.length; off += size) r.push(bytes.subarray(off, off + size));
      expect(Buffer.concat(r.stdout).toString()).toBe('out one\nout two\n');
      expect(Buffer.concat(r.stderr).toString()).toBe('err\n');
      expect(r.unfinished).toBe(0);
    }
  });

  test('a header without its body, or half a header, is unfinished', () => {
    const r = new FrameReader();
    r.push(frame(1, 'whole\n'));
    r.push(frame(1, 'cut short').subarray(0, 12));
    expect(Buffer.concat(r.stdout).toString()).toBe('whole\n');
    expect(r.unfinished).toBe(12);
    const half = new FrameReader();
    half.push(frame(2, 'x').subarray(0, 5));
    expect(half.unfinished).toBe(5);
  });
});
