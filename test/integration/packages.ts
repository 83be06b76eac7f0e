/**
 * The npm packages the integration workloads run (test/workload/fakenode.c builds each as the
 * chain `npm exec <pkg>` -> `sh -c '<bin>' ...` -> `node ~/.npm/_npx/<hash>/node_modules/.bin/<bin>`).
 *   NAME        what follows `npx` (a TreeSpec / startHostTree argument)
 *   NAME_TITLE  the title npm gives itself: its argv[0] after retitling, its only argv element
 *   NAME_NODE   the server's argv (the <hash> is npm 11's npx cache hash of the spec)
 */
export const MAGIC = '-y @21st-dev/magic@latest';
export const MAGIC_TITLE = 'npm exec @21st-dev/magic@latest';
export const MAGIC_NODE = ['node', '/root/.npm/_npx/590bd8cfc4710544/node_modules/.bin/magic'];

export const RUV = 'ruv-swarm mcp start';
export const RUV_TITLE = 'npm exec ruv-swarm mcp start';
export const RUV_NODE = ['node', '/root/.npm/_npx/6a9de72f63e89751/node_modules/.bin/ruv-swarm', 'mcp', 'start'];

export const FIGMA = 'figma-mcp';
export const FIGMA_TITLE = 'npm exec figma-mcp';
