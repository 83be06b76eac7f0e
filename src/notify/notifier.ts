// Notifications hang off the action log: every line goes to the log first (the action is done and
// recorded), then, once a kill step, restart, or withheld restart is complete, to the --on-action
// program and the --webhook. Nothing here is awaited by an action or a cycle.
import type { Settings } from '../cli/settings.ts';
import type { ActionLog } from '../log/logger.ts';
import { ActionCollector, type Action } from './action.ts';
import { checkProgram, OnActionRunner } from './on-action.ts';
import { WebhookSender } from './webhook.ts';

/**
 * How long a cleanup waits, at its end, for its notifications: one webhook message with its retries
 * takes up to ~18 s (src/notify/webhook.ts), a hook up to 10 s (src/notify/on-action.ts).
 */
export const CLEANUP_DRAIN_MS = 20_000;
/** A monitor asked to stop gives its notifications this long, then goes. */
export const MONITOR_DRAIN_MS = 2000;

export interface Notifier {
  /** The log to give the ladder: the same lines, and notifications after them. */
  log: ActionLog;
  /** End of a run: finish the open action and wait for deliveries until the deadline. */
  drain(deadlineMs: number): Promise<void>;
}

/** null when neither --on-action nor --webhook is set: the log is used as it is. */
export function createNotifier(s: Settings, log: ActionLog): Notifier | null {
  if (!s.onAction && !s.webhook) return null;
  if (s.onAction) checkProgram(s.onAction);
  const hook = s.onAction ? new OnActionRunner(s.onAction, log) : null;
  const webhook = s.webhook ? new WebhookSender({ url: s.webhook, format: s.webhookFormat, everyMs: s.notifyEverySeconds * 1000, log }) : null;
  const deliver = (a: Action) => {
    hook?.run(a);
    webhook?.offer(a);
  };
  const collector = new ActionCollector(deliver);
  const feed = (write: ActionLog['info']): ActionLog['info'] => (f, msg) => {
    write(f, msg);
    collector.feed(f, Date.now());
  };
  return {
    log: {
      info: feed(log.info),
      warn: feed(log.warn),
      error: feed(log.error),
      reopen: () => log.reopen(),
      flush: () => log.flush(),
      get lost() {
        return log.lost;
      },
    },
    async drain(deadlineMs) {
      collector.flushAll(Date.now());
      await Promise.all([hook?.drain(deadlineMs), webhook?.drain(deadlineMs)]);
    },
  };
}
