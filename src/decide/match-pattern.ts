// A runaway pattern (--match, PIDWARDEN_MATCH, the config file's match, the pidwarden.match label)
// picks the processes the ladder may kill. One that matches the empty string matches every command
// line, so every process but the main one would be a runaway tree: a postgres with 20 workers reads
// as 20 trees, dedupe kills 19 and the evidence lets a restart through. It is what compose writes
// for `pidwarden.match=${MCP_MATCH}` with the variable unset (an empty value, and only a warning),
// and what `.*` or `(x|)` mean. `.`, `\S` or `[a-z]` match every command line too without matching
// the empty one: a pattern that matches each of five unrelated command lines of a mixed host (a
// database's worker, a web server's, a shell, a sleep, a one-word tool) is taken for one of those.
// So such a pattern is refused where it is given, never used.

/** Command lines that no pattern naming runaway processes has a reason to match all of. */
const UNRELATED_COMMAND_LINES = ['postgres: checkpointer', 'nginx: worker process', '/bin/sh', 'sleep 1000', 'top'];

/** Why `re` may not pick runaway processes, or null when it may. */
export function runawayPatternWhy(re: RegExp): string | null {
  if (re.test('')) return 'matches every command line (it matches the empty string: an empty value, or a pattern such as .*)';
  if (UNRELATED_COMMAND_LINES.every((line) => re.test(line))) {
    return `matches every command line (it matches each of ${UNRELATED_COMMAND_LINES.map((l) => JSON.stringify(l)).join(', ')}: a pattern such as . or \\S)`;
  }
  return null;
}
