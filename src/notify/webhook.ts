// --webhook URL: POST a summary of each action, at most one message per container per
// --notify-every (the actions in between are counted into the next message), with bounded retries.
// Runs behind the actions: a receiver that is slow, fails or never answers delays nothing but the
// messages queued behind it. Only the URL's scheme and host are ever logged (src/notify/redact.ts).
import { hostname } from 'node:os';
import type { ActionLog } from '../log/logger.ts';
import type { Action } from './action.ts';
import { webhookBody, type WebhookFormat } from './format.ts';
import { SerialQueue } from './queue.ts';
import { redactUrl, splitCredentials } from './redact.ts';

/** Per attempt: a receiver that has not answered in 5 s is treated as down. */
export const WEBHOOK_TIMEOUT_MS = 5000;
/** Waits before the 2nd and 3rd attempt; three attempts at most (~18 s worst case per message). */
export const RETRY_DELAYS_MS = [1000, 2000] as const;
/** Messages waiting; more are dropped and logged (the per-container folding keeps this small). */
const BACKLOG = 100;

interface Folding {
  lastSentMs: number;
  pending: Action | null;
  count: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface WebhookOptions {
  url: string;
  format: WebhookFormat;
  everyMs: number;
  log: ActionLog;
  timeoutMs?: number;
  retryDelaysMs?: readonly number[];
}

export class WebhookSender {
  private readonly queue = new SerialQueue(BACKLOG);
  private readonly byContainer = new Map<string, Folding>();
  private readonly target: string;
  private readonly host = hostname();

  constructor(private readonly o: WebhookOptions) {
    this.target = redactUrl(o.url);
  }

  offer(a: Action, nowMs = Date.now()): void {
    this.forgetQuiet(nowMs);
    const f = this.byContainer.get(a.containerId);
    if (!f || (f.pending === null && nowMs - f.lastSentMs >= this.o.everyMs)) {
      this.byContainer.set(a.containerId, { lastSentMs: nowMs, pending: null, count: 0, timer: null });
      this.enqueue(a, 0);
      return;
    }
    f.pending = a;
    f.count++;
    f.timer ??= setTimeout(() => this.flush(a.containerId, Date.now()), Math.max(0, f.lastSentMs + this.o.everyMs - nowMs));
  }

  /** End of a run (cleanup): send what was folded now, then wait for the queue until the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    for (const id of [...this.byContainer.keys()]) this.flush(id, Date.now());
    await this.queue.drain(deadlineMs);
  }

  private flush(id: string, nowMs: number): void {
    const f = this.byContainer.get(id);
    if (!f) return;
    if (f.timer) clearTimeout(f.timer);
    f.timer = null;
    if (!f.pending) return;
    this.enqueue(f.pending, f.count - 1);
    f.lastSentMs = nowMs;
    f.pending = null;
    f.count = 0;
  }

  /** Bounded for weeks: a container quiet for a whole window needs no memory. */
  private forgetQuiet(nowMs: number): void {
    for (const [id, f] of this.byContainer) if (f.pending === null && nowMs - f.lastSentMs >= this.o.everyMs) this.byContainer.delete(id);
  }

  private enqueue(a: Action, folded: number): void {
    const dropped = this.queue.dropped;
    this.queue.push(() => this.sendOrSay(a, folded));
    if (this.queue.dropped > dropped) {
      this.o.log.warn({ event: 'notify', channel: 'webhook', target: this.target, container: a.container, containerId: a.containerId, action: a.event, reason: `backlog of ${BACKLOG} full: message dropped` });
    }
  }

  /**
   * send() logs what the receiver did; this catches what it did not foresee (a URL that the
   * settings let through and fetch or the credentials' decoding refuses), which the queue would
   * otherwise swallow with no line at all.
   */
  private async sendOrSay(a: Action, folded: number): Promise<void> {
    try {
      await this.send(a, folded);
    } catch (e) {
      // The error's name only: its message may quote the URL, and the URL may be the credential.
      const name = (e as NodeJS.ErrnoException).code ?? (e as { name?: string }).name ?? 'error';
      this.o.log.warn({ event: 'notify', channel: 'webhook', target: this.target, container: a.container, containerId: a.containerId, action: a.event, folded, reason: `not sent: ${name}` });
    }
  }

  private async send(a: Action, folded: number): Promise<void> {
    const { body, headers } = webhookBody(this.o.format, { action: a, folded, host: this.host });
    const { url, headers: auth } = splitCredentials(this.o.url);
    const delays = this.o.retryDelaysMs ?? RETRY_DELAYS_MS;
    const timeoutMs = this.o.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    const ids = { channel: 'webhook', target: this.target, container: a.container, containerId: a.containerId, action: a.event, folded };
    let reason = '';
    for (let attempt = 1; attempt <= delays.length + 1; attempt++) {
      let retry = true;
      try {
        const res = await fetch(url, { method: 'POST', body, headers: { ...headers, ...auth }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        await res.arrayBuffer().catch(() => undefined);
        if (res.status >= 200 && res.status < 300) {
          this.o.log.info({ event: 'notify', ...ids, status: res.status, attempts: attempt, reason: 'delivered' });
          return;
        }
        reason = `HTTP ${res.status}`;
        // 4xx other than 408/429 will not change on a retry (a wrong URL, a revoked token).
        retry = res.status >= 500 || res.status === 408 || res.status === 429;
      } catch (e) {
        // Never the error's message: some name the URL, and the URL may be the credential.
        const name = (e as { name?: string }).name;
        reason = name === 'TimeoutError' || name === 'AbortError' ? `no answer in ${timeoutMs / 1000} s` : `cannot connect (${(e as NodeJS.ErrnoException).code ?? name ?? 'error'})`;
      }
      if (!retry || attempt > delays.length) {
        this.o.log.warn({ event: 'notify', ...ids, attempts: attempt, reason: `not delivered: ${reason}` });
        return;
      }
      await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    }
  }
}
