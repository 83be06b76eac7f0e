// One job at a time, a bounded backlog: a slow or hanging receiver delays only the notifications
// behind it, never an action (nothing here is awaited by the ladder or the monitor's cycle).

export class SerialQueue {
  private readonly jobs: (() => Promise<void>)[] = [];
  private running: Promise<void> | null = null;
  dropped = 0;

  constructor(private readonly limit: number) {}

  push(job: () => Promise<void>): void {
    if (this.jobs.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.jobs.push(job);
    if (!this.running) this.running = this.run();
  }

  /** Resolves when the backlog is empty or at the deadline, whichever comes first. */
  async drain(deadlineMs: number): Promise<void> {
    while (this.running && Date.now() < deadlineMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.running, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadlineMs - Date.now()))))]);
      clearTimeout(timer);
    }
  }

  private async run(): Promise<void> {
    for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
      try {
        await job();
      } catch {
        // each job logs its own outcome; one failing never stops the next
      }
    }
    this.running = null;
  }
}
