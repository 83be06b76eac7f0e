// Webhook bodies, shaped the way each receiver takes them: Slack's `text`
// (https://api.slack.com/messaging/webhooks), Discord's `content`
// (https://discord.com/developers/docs/resources/webhook#execute-webhook), ntfy's message body with
// Title and Tags headers (https://docs.ntfy.sh/publish/), or pidwarden's own JSON.
import type { Action } from './action.ts';

export const WEBHOOK_FORMATS = ['json', 'slack', 'discord', 'ntfy'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface Message {
  action: Action;
  /** Actions on the same container since the last message that were not sent on their own (--notify-every). */
  folded: number;
  host: string;
}

/** Discord refuses content over 2000 characters. */
const DISCORD_MAX = 2000;
/** The JSON body and the hook's PIDWARDEN_COMMANDS list at most this many command lines: a summary, not the log. */
export const MAX_COMMANDS = 20;

export function summaryText(m: Message): string {
  const a = m.action;
  const would = a.dryRun ? '[dry run] would have ' : '';
  let what: string;
  switch (a.event) {
    case 'kill':
      what = `${a.dryRun ? '[dry run] would have killed' : 'killed'} ${a.pids.length} process${a.pids.length === 1 ? '' : 'es'} (step ${a.step}: ${a.reason})`;
      if (a.errors.length > 0) what += `; error: ${a.errors[0]}${a.errors.length > 1 ? ` (+${a.errors.length - 1} more)` : ''}`;
      break;
    case 'restart':
      what = `${would}restarted the container (${a.reason})`;
      break;
    case 'restart-skipped':
      what = `restart skipped: ${a.reason}`;
      break;
    case 'restart-suppressed':
      what = `restart suppressed: ${a.reason}`;
      break;
  }
  const folded = m.folded > 0 ? ` (+${m.folded} more action${m.folded === 1 ? '' : 's'} on this container since the last message)` : '';
  return `pidwarden on ${m.host}: ${a.container}: ${what}${folded}`;
}

export function webhookBody(format: WebhookFormat, m: Message): { body: string; headers: Record<string, string> } {
  const text = summaryText(m);
  const json = { 'content-type': 'application/json' };
  switch (format) {
    case 'slack':
      return { body: JSON.stringify({ text }), headers: json };
    case 'discord':
      return { body: JSON.stringify({ content: text.length > DISCORD_MAX ? text.slice(0, DISCORD_MAX - 1) + '…' : text }), headers: json };
    case 'ntfy':
      return {
        body: text,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          // Header values must be ASCII: container names are ([a-zA-Z0-9][a-zA-Z0-9_.-]*).
          title: `pidwarden: ${m.action.event} in ${m.action.container}`.replace(/[^\x20-\x7e]/g, '?'),
          tags: m.action.event === 'kill' ? 'warning' : 'rotating_light',
          ...(m.action.event === 'restart-suppressed' ? { priority: 'high' } : {}),
        },
      };
    case 'json': {
      const a = m.action;
      return {
        body: JSON.stringify({
          source: 'pidwarden',
          host: m.host,
          event: a.event,
          container: a.container,
          containerId: a.containerId,
          step: a.step,
          processes: a.pids.length,
          pids: a.pids,
          commands: a.commands.slice(0, MAX_COMMANDS),
          errors: a.errors.slice(0, MAX_COMMANDS),
          reason: a.reason,
          dryRun: a.dryRun,
          time: a.time,
          folded: m.folded,
          text,
        }),
        headers: json,
      };
    }
  }
}
