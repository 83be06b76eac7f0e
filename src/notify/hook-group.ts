// The deadline of one --on-action hook: its process group (the hook and whatever it started) and
// the reader of its stderr, from the spawn until ON_ACTION_TIMEOUT_MS after it.
//
// The deadline stays armed after the hook itself exits: a hook that starts `curl … &` and exits at
// once still gets its curl delivered within the deadline, as the README promises, and what is still
// running at the deadline is killed then. Killing the group as soon as the hook exits would be
// simpler but would cut off exactly such a background delivery.

/** How often, after the hook has exited, we look whether anything of its group is left. */
const GROUP_POLL_MS = 100;

/** Whether any process of group `pgid` still exists (a zombie counts: the kernel still knows it). */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // a member that changed its user is still a member
  }
}

export class HookGroup {
  /** Resolves once nothing of the hook is left to watch: the group empty and stderr at its end, or the deadline passed. */
  readonly ended: Promise<void>;
  /** The deadline passed: the group was killed then. */
  expired = false;
  private armed = true;
  private readonly deadline: ReturnType<typeof setTimeout>;
  private poll: ReturnType<typeof setInterval> | null = null;
  private finish!: () => void;

  constructor(
    private readonly pgid: number,
    timeoutMs: number,
    private readonly stderr: { done: Promise<void>; stop(): void },
  ) {
    this.ended = new Promise<void>((r) => (this.finish = r));
    this.deadline = setTimeout(() => {
      this.expired = true;
      this.killNow();
    }, timeoutMs);
  }

  /**
   * The hook itself has exited. Once its group is empty the kill is disarmed: the group's ID is the
   * hook's PID, which the kernel may give to a new process (and group) once the last member is gone.
   * Polling leaves that at most GROUP_POLL_MS, in which the whole PID space would have to wrap.
   */
  leaderExited(): void {
    if (!this.armed) return; // killed already (the deadline, or pidwarden stopping)
    const check = () => {
      if (groupExists(this.pgid)) return;
      this.armed = false;
      if (this.poll) clearInterval(this.poll);
      this.poll = null;
      // An escaped process (setsid) may still hold stderr: the reader then ends at the deadline.
      void this.stderr.done.then(() => this.close());
    };
    check();
    if (this.armed) this.poll = setInterval(check, GROUP_POLL_MS);
  }

  /** Kill what is left of the group and stop reading its stderr: at the deadline, or when pidwarden exits first. */
  killNow(): void {
    if (this.armed) {
      try {
        process.kill(-this.pgid, 'SIGKILL');
      } catch {
        // the group emptied since the last look
      }
    }
    this.armed = false;
    this.stderr.stop();
    this.close();
  }

  private close(): void {
    clearTimeout(this.deadline);
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.finish();
  }
}
