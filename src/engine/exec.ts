// Run ONE program inside a container and collect its output.
// Why hijack without stdin: under Bun, dockerode's exec.start({hijack:true, stdin:true}) hangs
// (oven-sh/bun#29012); with stdin:false the engine closes the stream when the program exits.
// Why a timeout: a container at its pids limit can leave an exec hanging in runc; we'd rather
// fall back to reading /proc from the host than wait. A timed-out exec's process is then killed
// through the host where the engine is local and --proc-root's PIDs are pidwarden's own (not so in
// a container without `pid: host`); exec-reaper.ts checks that, and the process, at the kill.
import type Docker from 'dockerode';
import { engineOf } from './client.ts';
import { killExecProcess, ticksSinceBoot } from './exec-reaper.ts';

/** Exec inspect normally answers in a few ms; a timed-out exec's Pid is not worth waiting longer for. */
const INSPECT_AFTER_TIMEOUT_MS = 2000;
import { execStartFailure } from './exec-status.ts';

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export class ExecFailedError extends Error {}

const TIMED_OUT = 'timed out after';

/** Whether a failure text (an observation's fallback reason or problem) says an exec hit its deadline. */
export function saysExecTimedOut(reason: string | undefined): boolean {
  return reason !== undefined && reason.includes(`exec of `) && reason.includes(TIMED_OUT);
}

export async function execInContainer(
  docker: Docker,
  containerId: string,
  argv: string[],
  opts: { timeoutMs: number; env?: string[] },
): Promise<ExecResult> {
  const container = docker.getContainer(containerId);
  const hostProcRoot = engineOf(docker)?.hostProcRoot ?? null;
  const createdTicks = hostProcRoot ? ticksSinceBoot(hostProcRoot) : null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stream: NodeJS.ReadWriteStream | undefined;
  let started: Docker.Exec | undefined;
  let timedOut = false;
  const work = (async () => {
    const exec = await container.exec({
      Cmd: argv,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
      Env: opts.env,
      // As root whatever the image's USER: a `kill` as the image's user cannot signal processes
      // of another uid (EPERM), and a ps as non-root may not read every /proc/<pid>/cmdline.
      User: '0',
    });
    started = exec;
    // Created after the caller gave up (the engine was slow to answer): never started, so no `ps`
    // or `kill` runs in the container for nobody, holding one of its few free PIDs.
    if (timedOut) throw new ExecFailedError(`exec of ${argv[0]} abandoned at its deadline`);
    stream = await exec.start({ hijack: true, stdin: false });
    if (timedOut) {
      // Started as the deadline passed: its socket is not kept, and its process is killed as a
      // timed-out one is (exec-reaper.ts checks it is the exec's).
      (stream as unknown as { destroy?: () => void }).destroy?.();
      if (hostProcRoot && createdTicks !== null) await killTimedOut(exec, hostProcRoot, containerId, createdTicks);
      throw new ExecFailedError(`exec of ${argv[0]} abandoned at its deadline`);
    }
    const frames = new FrameReader();
    const s = stream;
    s.on('data', (c: Buffer) => frames.push(c));
    await new Promise<void>((resolve, reject) => {
      s.on('end', resolve);
      s.on('close', resolve);
      s.on('error', reject);
    });
    // The engine writes each frame whole and ends its stream after the last one. A stream that
    // ends inside a frame was cut (the connection dropped, a proxy timed out): what came is not the
    // program's output, and the exit status inspect gives next is still that of a program that ran
    // to its end (0): a `ps` cut after its 3,000th row would pass for the whole table.
    if (frames.unfinished > 0) throw new ExecFailedError(`exec of ${argv[0]} failed: the engine's stream ended inside a frame (${frames.unfinished} bytes of it came): its output is cut`);
    const info = await exec.inspect();
    const result: ExecResult = {
      exitCode: typeof info.ExitCode === 'number' ? info.ExitCode : null,
      stdout: Buffer.concat(frames.stdout).toString('utf8'),
      stderr: Buffer.concat(frames.stderr).toString('utf8'),
    };
    // The program never ran (the runtime failed to start it): not an answer of the program's.
    const failure = execStartFailure(result);
    if (failure !== null) throw new ExecFailedError(`exec of ${argv[0]} could not start: ${failure}`);
    return result;
  })();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new ExecFailedError(`exec of ${argv[0]} ${TIMED_OUT} ${opts.timeoutMs} ms (--timeout)`));
    }, opts.timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (e) {
    if (timedOut && started && hostProcRoot && createdTicks !== null) {
      const killed = await killTimedOut(started, hostProcRoot, containerId, createdTicks);
      if (killed) throw new ExecFailedError(`exec of ${argv[0]} ${TIMED_OUT} ${opts.timeoutMs} ms (--timeout); its process (host PID ${killed}) was killed`);
    }
    if (e instanceof ExecFailedError) throw e;
    throw new ExecFailedError(`exec of ${argv[0]} failed: ${engineMessage(e)}`);
  } finally {
    if (timer) clearTimeout(timer);
    work.catch(() => {}); // the loser of the race must not become an unhandled rejection
    // A timed-out exec must not keep its socket: a monitor would leak one per stuck container.
    (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }
}

/**
 * The engine's multiplexed stream (moby's stdcopy, Podman's compat API alike): frames of an 8-byte
 * header (stream 1 stdout, 2 stderr; 3 zero bytes; the length, big-endian) and that many bytes.
 * docker-modem's demuxStream, used before, kept an unfinished frame to itself and dropped it
 * silently at the end, so a cut stream read as a shorter, complete one. Like it, stream 0 goes to
 * stderr, and a header of no stream at all (not multiplexed) makes the rest raw stdout.
 */
export class FrameReader {
  readonly stdout: Buffer[] = [];
  readonly stderr: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private raw = false;

  push(chunk: Buffer): void {
    if (this.raw) {
      this.stdout.push(chunk);
      return;
    }
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 8) {
      const type = buf[off]!;
      if (type > 2) {
        this.raw = true;
        this.stdout.push(buf.subarray(off));
        off = buf.length;
        break;
      }
      const length = buf.readUInt32BE(off + 4);
      if (buf.length - off - 8 < length) break;
      (type === 1 ? this.stdout : this.stderr).push(buf.subarray(off + 8, off + 8 + length));
      off += 8 + length;
    }
    this.pending = buf.subarray(off);
  }

  /** Bytes of a frame not finished yet: at the stream's end, how much of a cut frame came. */
  get unfinished(): number {
    return this.pending.length;
  }
}

/** Host PID of the timed-out exec's process, killed; null when unknown, gone or not verifiably the exec's. */
async function killTimedOut(exec: Docker.Exec, procRoot: string, containerId: string, createdTicks: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inspect = exec.inspect();
  try {
    const info = await Promise.race([
      inspect,
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), INSPECT_AFTER_TIMEOUT_MS))),
    ]);
    const pid = info?.Running ? info.Pid : 0;
    return pid > 0 && killExecProcess(procRoot, pid, containerId, createdTicks) ? pid : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    inspect.catch(() => {});
  }
}

/** The engine's own error text (dockerode puts the JSON body's message in .json.message). */
export function engineMessage(e: unknown): string {
  const anyE = e as { json?: { message?: string }; reason?: string; message?: string; statusCode?: number };
  const msg = anyE?.json?.message ?? anyE?.message ?? String(e);
  return String(msg).split('\n')[0]!.trim();
}
