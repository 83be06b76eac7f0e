// Pure: the opt-in label, autoheal's convention. With no --container, --label or --all, only the
// containers labelled pidwarden.enable=true are acted on; pidwarden.enable=false always wins.
// Its own file: decide/reap.ts reads it too, and policy.ts imports the settings, which import reap.

export const ENABLE_LABEL = 'pidwarden.enable';

export const ENABLE_EXPECTED = 'expected true or false';

export type Enablement = 'enabled' | 'disabled' | 'unset' | { malformed: string };

/**
 * Exactly `true` or `false`, the values the engine's label filter matches (the implicit selection
 * asks it for `pidwarden.enable=true`, so `TRUE` never opts in there); anything else (`no`, `0`,
 * `off`, `TRUE`) is a malformed value that makes the container an error, never a silent yes or no.
 */
export function enablement(labels: Record<string, string>): Enablement {
  const v = labels[ENABLE_LABEL];
  if (v === undefined) return 'unset';
  if (v === 'true') return 'enabled';
  if (v === 'false') return 'disabled';
  return { malformed: v };
}
