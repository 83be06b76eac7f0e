// A runaway pattern (--match, PIDWARDEN_MATCH, the config file's match, the pidwarden.match label)
// picks the processes the ladder may kill. One that matches the empty string matches every command
// line, so every process but the main one would be a runaway tree: a postgres with 20 workers reads
// as 20 trees, dedupe kills 19 and the evidence lets a restart through. It is what compose writes
// for `pidwarden.match=${MCP_MATCH}` with the variable unset (an empty value, and only a warning),
// and what `.*` or `(x|)` mean. So such a pattern is refused where it is given, never used.

/** Why `re` may not pick runaway processes, or null when it may. */
export function runawayPatternWhy(re: RegExp): string | null {
  return re.test('') ? 'matches every command line (it matches the empty string: an empty value, or a pattern such as .*)' : null;
}
