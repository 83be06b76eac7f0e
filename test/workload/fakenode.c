/*
 * fakenode — the pidwarden test workload.
 *
 * One small static program that plays every process of a MetaMCP-like
 * container (a Node app that spawns `npm exec <pkg>` MCP servers) so that the
 * kernel's process table looks exactly like the real thing (see
 * shared/fixtures/ps/INDEX.md, section `_host-real-npm-exec`).  It is installed
 * in the test images as /usr/local/bin/node (a regular file named `node`, so
 * comm and the exe basename are `node`), /usr/local/lib/fakeproc/dash (same
 * file) and /usr/local/lib/fakeproc/sh -> dash (comm `sh`, exe `.../dash`, like
 * Debian's /bin/sh).  Build: gcc -O2 -static -pthread -o fakenode fakenode.c
 *
 * Which part it plays is decided by the environment variable FAKENODE_ROLE
 * (never by the command line, which must look like the real program's):
 *
 *   (unset)  PID-1 "app" mode when argv[1] is "app" or ends in ".js"
 *            (the images run `node dist/index.js`), or a sub-command:
 *            `tree`, `hash`, `help`.
 *   npm      the `npm exec` stage: exec'd as `node /usr/local/bin/npx -y SPEC ARGS`
 *            (or `node /usr/local/bin/npm exec|x SPEC ARGS`), starts its threads,
 *            retitles itself exactly like libuv's uv_set_process_title() (title
 *            copied over the argv area, rest of the area zero-filled,
 *            prctl(PR_SET_NAME) = first 15 bytes), then spawns
 *            `sh -c '<bin>' <args>` and waits for it; exits with its status.
 *   sh       a stand-in for dash (`sh -c '<bin>' <args>`): looks <bin> up in
 *            PATH, forks `node <path> <args>` and waits for it, like dash does.
 *            Used where the image's /bin/sh would not fork (BusyBox ash execs
 *            the last command of `-c`, so the sh would vanish) or does not exist.
 *   server   the MCP server (`node ~/.npm/_npx/<hash>/node_modules/.bin/<bin> ...`):
 *            starts its threads and sleeps forever.
 *   proc     an arbitrary extra process: optional comm (FAKENODE_COMM), threads,
 *            SIGSTOP itself (FAKENODE_STOP=1); sleeps forever.
 *
 * ---------------------------------------------------------------------------
 * App mode:  node dist/index.js [OPTION|ITEM]...      (also: fakenode app ...)
 *   Arguments may also come from the environment variable FAKENODE_ARGS, one
 *   per line (read first, then the command line); the variable is removed
 *   before any child is started.  That keeps PID 1's cmdline `node dist/index.js`.
 *
 * OPTIONS
 *   --interval=SEC        delay between two starts (default 1; fractions ok)
 *   --reap=all|own|none   all: wait for every child incl. adopted orphans (tini);
 *                         own (default): wait only for the children it spawned,
 *                           like Node/libuv, so orphans re-parented to PID 1 stay
 *                           zombies when they exit;
 *                         none: never wait (every dead child stays a zombie).
 *                         --reap = --reap=all, --no-reap = --reap=none.
 *   --reap-delay=SEC      (--reap=own) reap a child only once it has been a zombie
 *                         for SEC seconds, like a Node app whose event loop is
 *                         busy when its child exits (default 0)
 *   --respawn             keep every tree alive: when a tree's npm process dies
 *                         (reaped, gone, or state Z in /proc/<pid>/stat) start a
 *                         replacement after --respawn-delay (default: interval)
 *   --respawn-delay=SEC
 *   --threads=N | --threads=APP,NPM,NODE
 *                         total threads (main thread included) of PID 1, of each
 *                         npm process and of each node server (default 11,11,7)
 *   --sh=auto|fake|real   sh stage: real = /bin/sh (needs /usr/bin/env; the npm
 *                         stage writes ~/.npm/_npx/<hash>/node_modules/.bin/<bin>
 *                         as a `#!/usr/bin/env node` script, like npx installing
 *                         the package); fake = the fakeproc sh; auto (default) =
 *                         real when /bin/sh is dash and /usr/bin/env exists.
 *   --quiet               no log lines on stdout
 *
 * ITEMS (each one argument; started in order, one start per interval; copies
 *        are started round-robin: first copy of every item, then the second...)
 *   tree[/MOD...]=WORDS   one `npm exec` chain, as if `npx WORDS` had been run:
 *                         WORDS split at spaces; options before the package spec
 *                         (-y, --yes) are dropped from the title, everything after
 *                         the spec is kept.  `tree=-y @21st-dev/magic@latest`,
 *                         `tree=ruv-swarm mcp start`.  If WORDS starts with `npm`
 *                         the npm stage is `node /usr/local/bin/npm WORDS...`
 *                         instead (`tree=npm x sleepy-mcp` -> title `npm x sleepy-mcp`).
 *   proc[/MOD...]=SARGS   one extra process; the first character of SARGS is
 *                         the separator, SARGS[1..] split at it is the argv
 *                         (empty elements allowed):  `proc=|node|/app/a b.js||x`
 *   odd                   the built-in catalogue of odd processes (below)
 *   MODs (no '/' or '=' inside):
 *     xN        N copies                       noterm    ignore SIGTERM (all
 *     threads:N total threads per process                processes of the item)
 *     bin:NAME  (tree) bin name (default: spec without @scope/ and @version)
 *     comm:NAME (proc) prctl(PR_SET_NAME) after exec
 *     uid:N  nice:N  stop (proc) setuid / nice / SIGSTOP itself (state T)
 *
 * The odd catalogue (all children of PID 1):
 *   uid 1000:  node /app/scripts/wörker.js --label "café  ☕   naïve" --city=東京 "" --emoji=🚀 --end
 *   uid 1001, nice 5: node --max-old-space-size=4096 ... (674-byte, 15-element claude-flow line)
 *   comm `evil) Z 1 (tail`: node /app/dist/workers/indexer.js --queue default
 *   uid 4242, stopped (T): node /app/dist/cron/cleanup.js
 *   embedded newline: node "/app/dist/multi\nline.js" "--msg=hello\nworld"
 *   400-character argument: node /app/dist/blob.js --payload=<390 chars>
 *
 * Signals: PID 1 exits on SIGTERM/SIGINT (docker stop is immediate).  npm
 * forwards SIGTERM to its sh and exits when the sh is gone (like npm's signal
 * manager); sh/server/proc die on SIGTERM (default action), unless `noterm`.
 * When fork fails (EAGAIN under --pids-limit) PID 1 and the npm stage retry
 * every 0.5 s and a failing pthread_create is ignored, so a pids-limited
 * container stays saturated.
 *
 * ---------------------------------------------------------------------------
 * Host helper:  fakenode tree [--threads=NPM,NODE] [--sh=fake|real] [--noterm]
 *                             [--bin=NAME] [--title=TITLE] WORDS...
 *   Starts one detached chain (own session; stdin/stdout/stderr /dev/null),
 *   waits until npm -> sh -> node exist and prints one JSON line
 *   {"npm":P,"sh":P,"node":P,"pgid":P}.  WORDS as for tree= (one argument
 *   with spaces or several).  Kill it with kill(-pgid, SIGKILL).
 *   Default --sh=fake (so nothing is written to the host's ~/.npm).
 *   Examples: fakenode tree -y @21st-dev/magic@latest
 *             fakenode tree "npm exec @21st-dev/magic@latest" magic   (TITLE BIN form:
 *               npm stage exec'd as `node /usr/local/bin/npm exec @21st-dev/magic@latest`)
 * fakenode hash SPEC   prints npm 11's npx cache hash (sha512(SPEC)[:16])
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ------------------------------------------------------------------ utils */

static int quiet;

static void logf_(const char *fmt, ...) {
  if (quiet) return;
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(1, buf, n);
  (void)w;
}

static void die(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fprintf(stderr, "fakenode: %s\n", buf);
  exit(2);
}

static void *xmalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die("out of memory");
  return p;
}

static void sleep_s(double s) {
  if (s <= 0) return;
  struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  return atoi(v);
}

static int env_flag(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

static void setenv_int(const char *name, int v) {
  char b[32];
  snprintf(b, sizeof b, "%d", v);
  setenv(name, b, 1);
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* ---------------------------------------------------------------- sha512 */

static const uint64_t K512[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
    0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
    0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
    0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
    0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
    0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
    0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
    0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
    0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
    0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
    0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
    0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
    0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
    0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL};

#define ROR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

static void sha512_block(uint64_t h[8], const unsigned char *p) {
  uint64_t w[80];
  for (int i = 0; i < 16; i++) {
    w[i] = 0;
    for (int j = 0; j < 8; j++) w[i] = (w[i] << 8) | p[i * 8 + j];
  }
  for (int i = 16; i < 80; i++) {
    uint64_t s0 = ROR64(w[i - 15], 1) ^ ROR64(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = ROR64(w[i - 2], 19) ^ ROR64(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 80; i++) {
    uint64_t S1 = ROR64(e, 14) ^ ROR64(e, 18) ^ ROR64(e, 41);
    uint64_t ch = (e & f) ^ (~e & g);
    uint64_t t1 = hh + S1 + ch + K512[i] + w[i];
    uint64_t S0 = ROR64(a, 28) ^ ROR64(a, 34) ^ ROR64(a, 39);
    uint64_t mj = (a & b) ^ (a & c) ^ (b & c);
    uint64_t t2 = S0 + mj;
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* npm 11 libnpmexec: sha512(spec).digest('hex').slice(0, 16) */
static void npx_hash(const char *s, char out[17]) {
  uint64_t h[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
                   0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
                   0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
  size_t len = strlen(s), i = 0;
  unsigned char blk[128];
  for (; i + 128 <= len; i += 128) sha512_block(h, (const unsigned char *)s + i);
  size_t rest = len - i;
  memset(blk, 0, sizeof blk);
  memcpy(blk, s + i, rest);
  blk[rest] = 0x80;
  if (rest >= 112) {
    sha512_block(h, blk);
    memset(blk, 0, sizeof blk);
  }
  uint64_t bits = (uint64_t)len * 8;
  for (int j = 0; j < 8; j++) blk[127 - j] = (unsigned char)(bits >> (8 * j));
  sha512_block(h, blk);
  static const char hex[] = "0123456789abcdef";
  for (int j = 0; j < 8; j++) {
    unsigned char byte = (unsigned char)(h[0] >> (56 - 8 * j));
    out[2 * j] = hex[byte >> 4];
    out[2 * j + 1] = hex[byte & 15];
  }
  out[16] = 0;
}

/* --------------------------------------------------------------- threads */

static void *idle_thread(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

/* Bring the process to `total` threads (main thread included).  Extra threads
 * block every signal, so signals are handled by the main thread. Failures
 * (EAGAIN under a pids limit) are ignored: the process runs with fewer. */
static int start_threads(int total) {
  int made = 0;
  if (total <= 1) return 0;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 64 * 1024);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  for (int i = 1; i < total; i++) {
    pthread_t t;
    if (pthread_create(&t, &at, idle_thread, NULL) == 0) made++;
  }
  pthread_attr_destroy(&at);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return made;
}

/* ----------------------------------------------------------- self paths */

static char self_path[PATH_MAX - 128];
static char node_path[PATH_MAX];  /* file named `node` to exec node-like roles */
static char fsh_path[PATH_MAX];   /* the fakeproc sh (symlink named sh -> dash) */

/* The first fakenode of a process family (app or tree mode) exports the
 * absolute paths so every later role execs the same files. */
static void export_paths(void) {
  setenv("FAKENODE_NODE", node_path, 1);
  setenv("FAKENODE_FAKESH", fsh_path, 1);
}

static void find_paths(void) {
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (n < 0) die("readlink /proc/self/exe: %s", strerror(errno));
  self_path[n] = 0;
  char dir[PATH_MAX - 64], parent[PATH_MAX - 64];
  snprintf(dir, sizeof dir, "%s", self_path);
  char *sl = strrchr(dir, '/');
  if (sl) *sl = 0;
  snprintf(parent, sizeof parent, "%s", dir);
  sl = strrchr(parent, '/');
  if (sl) *sl = 0;
  const char *e = getenv("FAKENODE_NODE");
  if (e && *e) snprintf(node_path, sizeof node_path, "%s", e);
  else {
    snprintf(node_path, sizeof node_path, "%s/node", dir);
    if (access(node_path, X_OK) != 0) snprintf(node_path, sizeof node_path, "%s", self_path);
  }
  e = getenv("FAKENODE_FAKESH");
  if (e && *e) snprintf(fsh_path, sizeof fsh_path, "%s", e);
  else {
    snprintf(fsh_path, sizeof fsh_path, "%s/lib/fakeproc/sh", parent);
    if (access(fsh_path, X_OK) != 0) snprintf(fsh_path, sizeof fsh_path, "%s", self_path);
  }
}

/* Clears every FAKENODE_* role variable so a child only sees what its
 * parent sets for it. */
static void clear_role_env(void) {
  static const char *vars[] = {"FAKENODE_ROLE", "FAKENODE_THREADS", "FAKENODE_SERVER_THREADS",
                               "FAKENODE_NOTERM", "FAKENODE_SH", "FAKENODE_BIN",
                               "FAKENODE_TITLE", "FAKENODE_COMM", "FAKENODE_STOP",
                               "FAKENODE_ARGS", NULL};
  for (int i = 0; vars[i]; i++) unsetenv(vars[i]);
}

static void reset_signals_for_child(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    signal(s, SIG_DFL);
  }
}

/* fork + exec with a CLOEXEC pipe: returns the pid once exec succeeded, -1
 * with errno set when fork or exec failed.  `prep` runs in the child. */
static pid_t spawn(const char *path, char *const argv[], void (*prep)(void *), void *arg) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    errno = e;
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    reset_signals_for_child();
    if (prep) prep(arg);
    execv(path, argv);
    int e = errno;
    ssize_t w = write(p[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  close(p[1]);
  int e = 0;
  ssize_t r;
  while ((r = read(p[0], &e, sizeof e)) == -1 && errno == EINTR) {
  }
  close(p[0]);
  if (r == (ssize_t)sizeof e) {
    waitpid(pid, NULL, 0);
    errno = e;
    return -1;
  }
  return pid;
}

/* ------------------------------------------------------ npx word parsing */

struct npx {
  char **argv;      /* argv to exec the npm stage with (NULL-terminated) */
  char *title;      /* process.title npm sets */
  char *spec;       /* package spec */
  char **args;      /* args after the spec (NULL-terminated) */
  int nargs;
};

static char **split_words(const char *s, int *count) {
  char *dup = xstrdup(s);
  int cap = 8, n = 0;
  char **w = xmalloc(sizeof(char *) * cap);
  for (char *tok = strtok(dup, " "); tok; tok = strtok(NULL, " ")) {
    if (n + 1 >= cap) {
      cap *= 2;
      w = realloc(w, sizeof(char *) * cap);
      if (!w) die("out of memory");
    }
    w[n++] = xstrdup(tok);
  }
  w[n] = NULL;
  free(dup);
  *count = n;
  return w;
}

/* words: what follows `npx` (or `npm ...` when words[0] == "npm"). */
static int parse_npx(char **words, int n, struct npx *out) {
  memset(out, 0, sizeof *out);
  int npm_form = n > 0 && strcmp(words[0], "npm") == 0;
  int i = npm_form ? 1 : 0;
  const char *cmdword = "exec";
  if (npm_form) {
    while (i < n && words[i][0] == '-') i++;
    if (i >= n) return -1;
    cmdword = words[i++];
  }
  while (i < n && words[i][0] == '-') i++; /* -y, --yes ... */
  if (i >= n) return -1;
  out->spec = xstrdup(words[i]);
  int first_arg = i + 1;
  out->nargs = n - first_arg;
  out->args = xmalloc(sizeof(char *) * (out->nargs + 1));
  size_t tl = strlen("npm ") + strlen(cmdword) + 1 + strlen(out->spec) + 1;
  for (int j = 0; j < out->nargs; j++) {
    out->args[j] = xstrdup(words[first_arg + j]);
    tl += strlen(out->args[j]) + 1;
  }
  out->title = xmalloc(tl + 1);
  sprintf(out->title, "npm %s %s", cmdword, out->spec);
  for (int j = 0; j < out->nargs; j++) {
    strcat(out->title, " ");
    strcat(out->title, out->args[j]);
  }
  int an = (npm_form ? n - 1 : n) + 2;
  out->argv = xmalloc(sizeof(char *) * (an + 1));
  out->argv[0] = "node";
  out->argv[1] = npm_form ? "/usr/local/bin/npm" : "/usr/local/bin/npx";
  for (int j = npm_form ? 1 : 0, k = 2; j < n; j++, k++) out->argv[k] = words[j];
  out->argv[an] = NULL;
  return 0;
}

/* default bin name: the package name without @scope/ and without @version */
static char *default_bin(const char *spec) {
  const char *s = spec;
  if (*s == '@') {
    const char *sl = strchr(s, '/');
    if (sl) s = sl + 1;
  }
  char *b = xstrdup(s);
  char *at = strchr(b, '@');
  if (at) *at = 0;
  return b;
}

/* @npmcli/run-script style shell escaping of one argument */
static void sh_escape_append(char *dst, const char *a) {
  if (!*a) {
    strcat(dst, "''");
    return;
  }
  if (!strpbrk(a, "\t\n\r \"#$&'()*;<>?\\`|~")) {
    strcat(dst, a);
    return;
  }
  strcat(dst, "'");
  for (const char *p = a; *p; p++) {
    if (*p == '\'') strcat(dst, "'\\''");
    else strncat(dst, p, 1);
  }
  strcat(dst, "'");
}

/* ----------------------------------------------------------- retitling */

/* Exactly what libuv's uv_set_process_title() does on Linux: the title is
 * copied over the contiguous argv string area (cut to area-1 bytes), the
 * rest of the area is zero-filled, and prctl(PR_SET_NAME) gets the result
 * (the kernel keeps its first 15 bytes as comm). */
static void retitle(int argc, char **argv, const char *title_in) {
  char *title = xstrdup(title_in);
  char *start = argv[0];
  char *end = argv[0] + strlen(argv[0]) + 1;
  for (int i = 1; i < argc; i++) {
    if (argv[i] != end) break; /* not contiguous: stop there, like libuv */
    end = argv[i] + strlen(argv[i]) + 1;
  }
  size_t cap = (size_t)(end - start);
  size_t len = strlen(title);
  if (len >= cap) len = cap ? cap - 1 : 0;
  memcpy(start, title, len);
  memset(start + len, 0, cap - len);
  prctl(PR_SET_NAME, start, 0, 0, 0);
  free(title);
}

/* ------------------------------------------------------------ roles */

static volatile sig_atomic_t got_term;
static volatile pid_t forward_to;

static void on_term_forward(int sig) {
  got_term = 1;
  if (forward_to > 0) kill(forward_to, sig);
}

static void set_noterm_or(void (*handler)(int)) {
  if (env_flag("FAKENODE_NOTERM")) {
    signal(SIGTERM, SIG_IGN);
    return;
  }
  if (handler) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGTERM, &sa, NULL);
  }
}

static int wait_status_to_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

static int mkdir_p(const char *path) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
  return 0;
}

static int sh_is_real_candidate(void) {
  char rp[PATH_MAX];
  if (!realpath("/bin/sh", rp)) return 0;
  if (strcmp(base_name(rp), "dash") != 0) return 0;
  if (access("/usr/bin/env", X_OK) != 0) return 0;
  return 1;
}

struct child_env {
  const char *role;
  const char *path_env;
  int threads;
};

static void prep_sh_child(void *a) {
  struct child_env *ce = a;
  setenv("FAKENODE_ROLE", ce->role, 1);
  setenv_int("FAKENODE_THREADS", ce->threads);
  if (ce->path_env) setenv("PATH", ce->path_env, 1);
}

static int role_npm(int argc, char **argv) {
  if (argc < 3) die("npm role: expected `node /usr/local/bin/npx WORDS...`");
  int nwords = argc - 2;
  char **words = xmalloc(sizeof(char *) * (nwords + 1));
  int npm_form = strcmp(base_name(argv[1]), "npm") == 0;
  /* re-add the `npm` marker so parse_npx knows the form */
  int k = 0;
  char **w2 = xmalloc(sizeof(char *) * (nwords + 2));
  if (npm_form) w2[k++] = "npm";
  for (int i = 0; i < nwords; i++) words[i] = xstrdup(argv[2 + i]);
  for (int i = 0; i < nwords; i++) w2[k++] = words[i];
  w2[k] = NULL;
  struct npx nx;
  if (parse_npx(w2, k, &nx) != 0) die("npm role: no package spec in argv");
  const char *title = getenv("FAKENODE_TITLE");
  if (!title || !*title) title = nx.title;
  const char *binenv = getenv("FAKENODE_BIN");
  char *bin = binenv && *binenv ? xstrdup(binenv) : default_bin(nx.spec);
  char hash[17];
  npx_hash(nx.spec, hash);
  int threads = env_int("FAKENODE_THREADS", 11);
  int server_threads = env_int("FAKENODE_SERVER_THREADS", 7);
  const char *shmode = getenv("FAKENODE_SH");
  int real = 0;
  if (shmode && strcmp(shmode, "real") == 0) real = 1;
  else if (!shmode || !*shmode || strcmp(shmode, "auto") == 0) real = sh_is_real_candidate();

  set_noterm_or(on_term_forward);
  start_threads(threads);
  retitle(argc, argv, title);

  const char *home = getenv("HOME");
  if (!home || !*home) home = "/root";
  char bindir[PATH_MAX];
  snprintf(bindir, sizeof bindir, "%s/.npm/_npx/%s/node_modules/.bin", home, hash);
  if (real) {
    /* npx "installs" the package: a bin script run through /usr/bin/env node */
    char script[PATH_MAX + 64];
    snprintf(script, sizeof script, "%s/%s", bindir, bin);
    int ok = 0;
    if (mkdir_p(bindir) == 0) {
      char tmp[PATH_MAX + 80];
      snprintf(tmp, sizeof tmp, "%s.%d.tmp", script, (int)getpid());
      int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
      if (fd >= 0) {
        const char body[] = "#!/usr/bin/env node\n// fakenode MCP server stand-in\n";
        ok = write(fd, body, sizeof body - 1) == (ssize_t)(sizeof body - 1);
        close(fd);
        ok = ok && rename(tmp, script) == 0;
      }
    }
    if (!ok) real = 0; /* read-only filesystem: fall back to the fake sh */
  }
  const char *oldpath = getenv("PATH");
  if (!oldpath) oldpath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char *newpath = xmalloc(strlen(bindir) + strlen(oldpath) + 2);
  sprintf(newpath, "%s:%s", bindir, oldpath);

  size_t cl = strlen(bin) + 3;
  for (int i = 0; i < nx.nargs; i++) cl += 4 * strlen(nx.args[i]) + 4;
  char *cmd = xmalloc(cl + 1);
  strcat(cmd, "'");
  strcat(cmd, bin);
  strcat(cmd, "'");
  for (int i = 0; i < nx.nargs; i++) {
    strcat(cmd, " ");
    sh_escape_append(cmd, nx.args[i]);
  }
  char *shargv[] = {"sh", "-c", cmd, NULL};
  struct child_env ce = {real ? "server" : "sh", newpath, server_threads};
  /* FAKENODE_NOTERM, FAKENODE_NODE... are inherited on purpose */
  unsetenv("FAKENODE_TITLE");
  unsetenv("FAKENODE_BIN");
  unsetenv("FAKENODE_SERVER_THREADS");
  unsetenv("FAKENODE_SH");
  pid_t child;
  for (;;) {
    child = spawn(real ? "/bin/sh" : fsh_path, shargv, prep_sh_child, &ce);
    if (child > 0) break;
    if (got_term) exit(143);
    sleep_s(0.5); /* spawn EAGAIN under a pids limit: keep trying */
  }
  forward_to = child;
  if (got_term) kill(child, SIGTERM);
  int st;
  while (waitpid(child, &st, 0) == -1) {
    if (errno != EINTR) exit(1);
  }
  exit(got_term ? 143 : wait_status_to_code(st));
}

/* split a `sh -c` string into words, honouring '...' quoting */
static char **sh_words(const char *s, int *count) {
  int cap = 8, n = 0;
  char **w = xmalloc(sizeof(char *) * cap);
  const char *p = s;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    char *buf = xmalloc(strlen(p) + 1);
    size_t bl = 0;
    while (*p && *p != ' ' && *p != '\t') {
      if (*p == '\'') {
        p++;
        while (*p && *p != '\'') buf[bl++] = *p++;
        if (*p) p++;
      } else if (*p == '\\' && p[1]) {
        buf[bl++] = p[1];
        p += 2;
      } else {
        buf[bl++] = *p++;
      }
    }
    buf[bl] = 0;
    if (n + 1 >= cap) {
      cap *= 2;
      w = realloc(w, sizeof(char *) * cap);
      if (!w) die("out of memory");
    }
    w[n++] = buf;
  }
  w[n] = NULL;
  *count = n;
  return w;
}

static void prep_server_child(void *a) {
  (void)a;
  setenv("FAKENODE_ROLE", "server", 1);
}

static int role_sh(int argc, char **argv) {
  prctl(PR_SET_NAME, "sh", 0, 0, 0);
  if (argc < 3 || strcmp(argv[1], "-c") != 0) die("sh role: expected `sh -c CMD`");
  set_noterm_or(NULL); /* dash: SIGTERM kills it (and leaves its child) */
  int n;
  char **w = sh_words(argv[2], &n);
  if (n == 0) exit(0);
  char path[PATH_MAX] = "";
  if (strchr(w[0], '/')) snprintf(path, sizeof path, "%s", w[0]);
  const char *pe = getenv("PATH");
  if (!path[0] && pe) {
    char *dup = xstrdup(pe);
    char first_bin[PATH_MAX] = "";
    for (char *d = strtok(dup, ":"); d; d = strtok(NULL, ":")) {
      char cand[PATH_MAX];
      snprintf(cand, sizeof cand, "%s/%s", d, w[0]);
      if (access(cand, X_OK) == 0) {
        snprintf(path, sizeof path, "%s", cand);
        break;
      }
      size_t dl = strlen(d);
      if (!first_bin[0] && dl >= 18 && strcmp(d + dl - 18, "/node_modules/.bin") == 0)
        snprintf(first_bin, sizeof first_bin, "%s", cand);
    }
    if (!path[0] && first_bin[0]) snprintf(path, sizeof path, "%s", first_bin);
    free(dup);
  }
  if (!path[0]) snprintf(path, sizeof path, "%s", w[0]);
  char **nargv = xmalloc(sizeof(char *) * (n + 2));
  nargv[0] = "node";
  nargv[1] = path;
  for (int i = 1; i < n; i++) nargv[i + 1] = w[i];
  nargv[n + 1] = NULL;
  pid_t child;
  for (;;) {
    child = spawn(node_path, nargv, prep_server_child, NULL);
    if (child > 0) break;
    sleep_s(0.5);
  }
  int st;
  while (waitpid(child, &st, 0) == -1) {
    if (errno != EINTR) exit(1);
  }
  exit(wait_status_to_code(st));
}

static int role_server(void) {
  prctl(PR_SET_NAME, "node", 0, 0, 0);
  set_noterm_or(NULL);
  start_threads(env_int("FAKENODE_THREADS", 7));
  for (;;) pause();
  return 0;
}

static int role_proc(void) {
  const char *comm = getenv("FAKENODE_COMM");
  if (comm && *comm) prctl(PR_SET_NAME, comm, 0, 0, 0);
  set_noterm_or(NULL);
  start_threads(env_int("FAKENODE_THREADS", 1));
  if (env_flag("FAKENODE_STOP")) raise(SIGSTOP);
  for (;;) pause();
  return 0;
}

/* ------------------------------------------------------------ app mode */

enum kind { K_TREE, K_PROC };
enum reap { R_ALL, R_OWN, R_NONE };

struct item {
  enum kind kind;
  int copies;
  int noterm;
  int threads; /* -1: default */
  char *bin;
  char *comm;
  int uid; /* -1: unchanged */
  int nice;
  int stop;
  char *label;      /* for log lines (control characters replaced) */
  int fails;        /* consecutive failed starts */
  char **words;     /* tree: npx words */
  int nwords;
  char **argv;      /* proc */
};

struct running {
  pid_t pid;
  int item;
  int alive;
  int reaped;
  double zombie_since; /* --reap-delay: when it was first seen a zombie, 0 = not yet */
};

static struct item *items;
static int nitems;
static struct running *runs;
static int nruns, capruns;

static double interval = 1.0, respawn_delay = -1, reap_delay = 0;
static enum reap reap_mode = R_OWN;
static int respawn;
static int app_threads = 11, npm_threads = 11, node_threads = 7;
static const char *sh_mode = "auto";

static volatile sig_atomic_t app_stop;
static void on_app_term(int s) {
  (void)s;
  app_stop = 1;
}

static char *printable(const char *s) {
  char *d = xstrdup(s);
  for (char *p = d; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
  return d;
}

static struct item *new_item(enum kind k) {
  items = realloc(items, sizeof(struct item) * (nitems + 1));
  if (!items) die("out of memory");
  struct item *it = &items[nitems++];
  memset(it, 0, sizeof *it);
  it->kind = k;
  it->copies = 1;
  it->threads = -1;
  it->uid = -1;
  return it;
}

static struct item *add_proc(int uid, int nice, int threads, const char *comm, int stop,
                             const char *const *argv) {
  struct item *it = new_item(K_PROC);
  int n = 0;
  while (argv[n]) n++;
  it->argv = xmalloc(sizeof(char *) * (n + 1));
  for (int i = 0; i < n; i++) it->argv[i] = xstrdup(argv[i]);
  it->uid = uid;
  it->nice = nice;
  it->threads = threads;
  it->comm = comm ? xstrdup(comm) : NULL;
  it->stop = stop;
  it->label = printable(argv[1] ? argv[1] : argv[0]);
  return it;
}

static void add_odd_catalogue(void) {
  static const char *const a1[] = {"node", "/app/scripts/w\xc3\xb6rker.js", "--label",
                                   "caf\xc3\xa9  \xe2\x98\x95   na\xc3\xafve",
                                   "--city=\xe6\x9d\xb1\xe4\xba\xac", "",
                                   "--emoji=\xf0\x9f\x9a\x80", "--end", NULL};
  add_proc(1000, 0, 5, NULL, 0, a1);
  static const char *const a2[] = {
      "node", "--max-old-space-size=4096", "--enable-source-maps", "--require",
      "/app/node_modules/.pnpm/dotenv@16.4.5/node_modules/dotenv/config.js",
      "/root/.npm/_npx/7cfa166e65244432/node_modules/claude-flow/dist/cli/index.js", "mcp",
      "start", "--transport", "stdio",
      "--config=/app/config/mcp-servers/production/claude-flow/workspaces/team-alpha/"
      "settings.with.a.deliberately.long.path.name.json",
      "--log-file=/var/log/metamcp/claude-flow-mcp-server-instance-0001.log",
      "--memory-store=/app/data/.swarm/memory/sqlite/claude-flow-memory.db",
      "--allowed-origins=http://localhost:12008,http://127.0.0.1:12008,"
      "http://metamcp.internal:12008",
      "--feature-flags=hooks,neural,swarm,memory,github,workflow,benchmark,telemetry-off", NULL};
  add_proc(1001, 5, 5, NULL, 0, a2);
  static const char *const a3[] = {"node", "/app/dist/workers/indexer.js", "--queue", "default",
                                   NULL};
  add_proc(-1, 0, 3, "evil) Z 1 (tail", 0, a3);
  static const char *const a4[] = {"node", "/app/dist/cron/cleanup.js", NULL};
  add_proc(4242, 0, 3, NULL, 1, a4);
  static const char *const a5[] = {"node", "/app/dist/multi\nline.js", "--msg=hello\nworld",
                                   NULL};
  add_proc(-1, 0, 1, NULL, 0, a5);
  static char blob[401];
  if (!blob[0]) {
    strcpy(blob, "--payload=");
    const char *pat = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = 10; i < 400; i++) blob[i] = pat[(i - 10) % 36];
    blob[400] = 0;
  }
  const char *a6[] = {"node", "/app/dist/blob.js", blob, NULL};
  add_proc(-1, 0, 1, NULL, 0, a6);
}

static void parse_item(const char *s) {
  if (strcmp(s, "odd") == 0) {
    add_odd_catalogue();
    return;
  }
  const char *eq = strchr(s, '=');
  if (!eq) die("bad item (no '='): %s", s);
  size_t hl = (size_t)(eq - s);
  char *head = xmalloc(hl + 1);
  memcpy(head, s, hl);
  const char *value = eq + 1;
  char *save = NULL;
  char *kind = strtok_r(head, "/", &save);
  struct item *it;
  if (strcmp(kind, "tree") == 0) {
    it = new_item(K_TREE);
    it->words = split_words(value, &it->nwords);
    struct npx nx;
    if (parse_npx(it->words, it->nwords, &nx) != 0) die("tree item without a package: %s", s);
    it->label = nx.title;
  } else if (strcmp(kind, "proc") == 0) {
    it = new_item(K_PROC);
    if (!*value) die("proc item without argv: %s", s);
    char sep = value[0];
    int n = 1;
    for (const char *p = value + 1; *p; p++) n += *p == sep;
    it->argv = xmalloc(sizeof(char *) * (n + 1));
    const char *p = value + 1;
    for (int i = 0; i < n; i++) {
      const char *q = strchr(p, sep);
      size_t l = q ? (size_t)(q - p) : strlen(p);
      it->argv[i] = xmalloc(l + 1);
      memcpy(it->argv[i], p, l);
      p = q ? q + 1 : p + l;
    }
    it->threads = 1;
    it->label = printable(n > 1 ? it->argv[1] : it->argv[0]);
  } else {
    die("unknown item kind '%s' in %s", kind, s);
  }
  for (char *m = strtok_r(NULL, "/", &save); m; m = strtok_r(NULL, "/", &save)) {
    if (m[0] == 'x' && isdigit((unsigned char)m[1])) it->copies = atoi(m + 1);
    else if (strcmp(m, "noterm") == 0) it->noterm = 1;
    else if (strcmp(m, "stop") == 0) it->stop = 1;
    else if (strncmp(m, "threads:", 8) == 0) it->threads = atoi(m + 8);
    else if (strncmp(m, "bin:", 4) == 0) it->bin = xstrdup(m + 4);
    else if (strncmp(m, "comm:", 5) == 0) it->comm = xstrdup(m + 5);
    else if (strncmp(m, "uid:", 4) == 0) it->uid = atoi(m + 4);
    else if (strncmp(m, "nice:", 5) == 0) it->nice = atoi(m + 5);
    else die("unknown modifier '%s' in %s", m, s);
  }
  free(head);
}

static int parse_threads3(const char *v, int *a, int *b, int *c) {
  int x, y, z;
  if (sscanf(v, "%d,%d,%d", &x, &y, &z) == 3) {
    *a = x; *b = y; *c = z;
    return 0;
  }
  if (sscanf(v, "%d", &x) == 1) {
    *a = *b = *c = x;
    return 0;
  }
  return -1;
}

static void parse_app_arg(const char *a) {
  if (strncmp(a, "--interval=", 11) == 0) interval = atof(a + 11);
  else if (strncmp(a, "--respawn-delay=", 16) == 0) respawn_delay = atof(a + 16);
  else if (strncmp(a, "--reap-delay=", 13) == 0) reap_delay = atof(a + 13);
  else if (strcmp(a, "--respawn") == 0) respawn = 1;
  else if (strcmp(a, "--reap") == 0 || strcmp(a, "--reap=all") == 0) reap_mode = R_ALL;
  else if (strcmp(a, "--reap=own") == 0) reap_mode = R_OWN;
  else if (strcmp(a, "--no-reap") == 0 || strcmp(a, "--reap=none") == 0) reap_mode = R_NONE;
  else if (strncmp(a, "--threads=", 10) == 0) {
    if (parse_threads3(a + 10, &app_threads, &npm_threads, &node_threads) != 0)
      die("bad --threads: %s", a);
  } else if (strncmp(a, "--sh=", 5) == 0) sh_mode = xstrdup(a + 5);
  else if (strcmp(a, "--quiet") == 0) quiet = 1;
  else if (a[0] == '-' && a[1] == '-') die("unknown option %s", a);
  else parse_item(a);
}

static void prep_tree(void *a) {
  struct item *it = a;
  clear_role_env();
  setenv("FAKENODE_ROLE", "npm", 1);
  setenv_int("FAKENODE_THREADS", it->threads > 0 ? it->threads : npm_threads);
  setenv_int("FAKENODE_SERVER_THREADS", it->threads > 0 ? it->threads : node_threads);
  setenv("FAKENODE_SH", sh_mode, 1);
  if (it->noterm) setenv("FAKENODE_NOTERM", "1", 1);
  if (it->bin) setenv("FAKENODE_BIN", it->bin, 1);
}

static void prep_proc(void *a) {
  struct item *it = a;
  clear_role_env();
  setenv("FAKENODE_ROLE", "proc", 1);
  setenv_int("FAKENODE_THREADS", it->threads > 0 ? it->threads : 1);
  if (it->noterm) setenv("FAKENODE_NOTERM", "1", 1);
  if (it->comm) setenv("FAKENODE_COMM", it->comm, 1);
  if (it->stop) setenv("FAKENODE_STOP", "1", 1);
  if (it->nice) setpriority(PRIO_PROCESS, 0, it->nice);
  /* euid, not uid: a setuid-root workload started as a USER can still drop to another uid
   * (test/integration/layouts.test.ts, the USER image) */
  if (it->uid >= 0 && geteuid() == 0) {
    if (setgroups(0, NULL) != 0 || setgid(it->uid) != 0 || setuid(it->uid) != 0) {
      /* best effort: keep running as root */
    }
  }
}

static pid_t start_item(int idx) {
  struct item *it = &items[idx];
  pid_t pid;
  if (it->kind == K_TREE) {
    struct npx nx;
    parse_npx(it->words, it->nwords, &nx);
    pid = spawn(node_path, nx.argv, prep_tree, it);
  } else {
    pid = spawn(node_path, it->argv, prep_proc, it);
  }
  if (pid < 0) {
    /* log the first failure and then every 20th (retries every 0.5 s) */
    if (it->fails++ % 20 == 0)
      logf_("fakenode: start %s failed: %s (retrying)", it->label, strerror(errno));
    return -1;
  }
  it->fails = 0;
  if (nruns == capruns) {
    capruns = capruns ? capruns * 2 : 16;
    runs = realloc(runs, sizeof(struct running) * capruns);
    if (!runs) die("out of memory");
  }
  runs[nruns++] = (struct running){pid, idx, 1, 0, 0};
  logf_("fakenode: started %s %s pid=%d", it->kind == K_TREE ? "tree" : "proc", it->label,
        (int)pid);
  return pid;
}

/* state letter of /proc/<pid>/stat, 0 when the process is gone */
static char proc_state(pid_t pid) {
  char p[64], buf[512];
  snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *rp = strrchr(buf, ')');
  if (!rp || rp[1] != ' ') return 0;
  return rp[2];
}

static void mark_dead(pid_t pid) {
  for (int i = 0; i < nruns; i++)
    if (runs[i].pid == pid && runs[i].alive) {
      runs[i].alive = 0;
      runs[i].reaped = 1;
    }
}

struct pending {
  int item;
  double at;
};

static int app_main(int argc, char **argv, int first) {
  export_paths();
  const char *envargs = getenv("FAKENODE_ARGS");
  if (envargs && *envargs) {
    char *dup = xstrdup(envargs);
    char *save = NULL;
    for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
      if (*l) parse_app_arg(l);
  }
  for (int i = first; i < argc; i++) parse_app_arg(argv[i]);
  clear_role_env();
  if (respawn_delay < 0) respawn_delay = interval;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_app_term;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  start_threads(app_threads);
  logf_("fakenode: app pid=%d items=%d reap=%s respawn=%d interval=%.3f sh=%s", (int)getpid(),
        nitems, reap_mode == R_ALL ? "all" : reap_mode == R_OWN ? "own" : "none", respawn,
        interval, sh_mode);

  /* start order: round-robin over copies */
  int maxc = 0;
  for (int i = 0; i < nitems; i++)
    if (items[i].copies > maxc) maxc = items[i].copies;
  int cap = 16, npend = 0;
  struct pending *pend = xmalloc(sizeof(struct pending) * cap);
  double t0 = now_s(), t = t0;
  for (int c = 0; c < maxc; c++)
    for (int i = 0; i < nitems; i++)
      if (c < items[i].copies) {
        if (npend == cap) {
          cap *= 2;
          pend = realloc(pend, sizeof(struct pending) * cap);
          if (!pend) die("out of memory");
        }
        pend[npend++] = (struct pending){i, t};
        t += interval;
      }
  double next_ok = 0; /* earliest next start (keeps starts `interval` apart) */
  while (!app_stop) {
    double now = now_s();
    /* 1. start what is due, one at a time; an --interval shorter than this loop's 50 ms sleep
       starts every item due by now, or --interval=0.002 would mean one start per 50 ms (83 s
       for the bench's 1,667 trees instead of a few) */
    for (int batch = 0;; batch++) {
      int best = -1;
      for (int i = 0; i < npend; i++)
        if (pend[i].at <= now && (best < 0 || pend[i].at < pend[best].at)) best = i;
      if (best < 0 || now < next_ok || (batch > 0 && interval >= 0.05)) break;
      if (start_item(pend[best].item) > 0) {
        pend[best] = pend[--npend];
        next_ok = interval < 0.05 ? now : now + interval;
      } else {
        pend[best].at = now + 0.5; /* EAGAIN: retry */
        break;
      }
    }
    /* 2. reap */
    if (reap_mode == R_ALL) {
      pid_t p;
      while ((p = waitpid(-1, NULL, WNOHANG)) > 0) mark_dead(p);
    } else if (reap_mode == R_OWN) {
      for (int i = 0; i < nruns; i++) {
        if (!runs[i].alive) continue;
        if (reap_delay > 0) {
          if (proc_state(runs[i].pid) != 'Z') continue;
          if (runs[i].zombie_since == 0) runs[i].zombie_since = now;
          if (now - runs[i].zombie_since < reap_delay) continue;
        }
        if (waitpid(runs[i].pid, NULL, WNOHANG) == runs[i].pid) {
          runs[i].alive = 0;
          runs[i].reaped = 1;
        }
      }
    } else {
      for (int i = 0; i < nruns; i++)
        if (runs[i].alive) {
          char st = proc_state(runs[i].pid);
          if (st == 0 || st == 'Z' || st == 'X') runs[i].alive = 0;
        }
    }
    /* 3. respawn dead trees */
    if (respawn) {
      for (int i = 0; i < nruns; i++) {
        if (runs[i].alive || runs[i].item < 0 || items[runs[i].item].kind != K_TREE) continue;
        logf_("fakenode: tree %s pid=%d died; respawning", items[runs[i].item].label,
              (int)runs[i].pid);
        if (npend == cap) {
          cap *= 2;
          pend = realloc(pend, sizeof(struct pending) * cap);
          if (!pend) die("out of memory");
        }
        pend[npend++] = (struct pending){runs[i].item, now + respawn_delay};
        runs[i].item = -1; /* handled */
      }
    }
    sleep_s(0.05);
  }
  logf_("fakenode: app exiting on signal");
  if (getpid() != 1) {
    /* on the host, do not leave our trees behind */
    for (int i = 0; i < nruns; i++) kill(runs[i].pid, SIGKILL);
  }
  return 0;
}

/* ------------------------------------------------------ host tree helper */

static pid_t first_child(pid_t pid) {
  char p[96], buf[256];
  snprintf(p, sizeof p, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  return (pid_t)atoi(buf);
}

struct tree_opts {
  int npm_threads, node_threads, noterm;
  const char *sh, *bin, *title;
};

static void prep_host_tree(void *a) {
  struct tree_opts *o = a;
  clear_role_env();
  setsid();
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  setenv("FAKENODE_ROLE", "npm", 1);
  setenv_int("FAKENODE_THREADS", o->npm_threads);
  setenv_int("FAKENODE_SERVER_THREADS", o->node_threads);
  setenv("FAKENODE_SH", o->sh, 1);
  if (o->noterm) setenv("FAKENODE_NOTERM", "1", 1);
  if (o->bin) setenv("FAKENODE_BIN", o->bin, 1);
  if (o->title) setenv("FAKENODE_TITLE", o->title, 1);
}

static int tree_main(int argc, char **argv) {
  export_paths();
  struct tree_opts o = {11, 7, 0, "fake", NULL, NULL};
  size_t total = 1;
  int i = 2;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--threads=", 10) == 0) {
      if (sscanf(a + 10, "%d,%d", &o.npm_threads, &o.node_threads) == 1)
        o.node_threads = o.npm_threads;
    } else if (strncmp(a, "--sh=", 5) == 0) o.sh = a + 5;
    else if (strcmp(a, "--noterm") == 0) o.noterm = 1;
    else if (strncmp(a, "--bin=", 6) == 0) o.bin = a + 6;
    else if (strncmp(a, "--title=", 8) == 0) o.title = a + 8;
    else if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else break;
  }
  /* two-argument form: fakenode tree "npm exec @21st-dev/magic@latest" magic */
  if (argc - i == 2 && strncmp(argv[i], "npm ", 4) == 0 && !strchr(argv[i + 1], ' ') && !o.bin) {
    o.bin = argv[i + 1];
    argc--;
  }
  for (int j = i; j < argc; j++) total += strlen(argv[j]) + 1;
  char *joined = xmalloc(total);
  for (int j = i; j < argc; j++) {
    if (j > i) strcat(joined, " ");
    strcat(joined, argv[j]);
  }
  int n;
  char **words = split_words(joined, &n);
  struct npx nx;
  if (parse_npx(words, n, &nx) != 0) die("tree: usage: fakenode tree [options] [-y] SPEC [ARGS...]");
  pid_t npm = spawn(node_path, nx.argv, prep_host_tree, &o);
  if (npm < 0) die("tree: cannot start: %s", strerror(errno));
  pid_t sh = 0, node = 0;
  double deadline = now_s() + 10;
  while (now_s() < deadline) {
    if (!sh) sh = first_child(npm);
    if (sh && !node) node = first_child(sh);
    if (node) {
      /* wait until the node stage has exec'd (argv[0] == "node", role set) */
      char p[64], buf[8];
      snprintf(p, sizeof p, "/proc/%d/comm", (int)node);
      int fd = open(p, O_RDONLY);
      ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
      if (fd >= 0) close(fd);
      if (r >= 4 && memcmp(buf, "node", 4) == 0) break;
    }
    sleep_s(0.01);
  }
  if (!node) {
    kill(-npm, SIGKILL);
    die("tree: chain did not come up within 10 s (npm=%d sh=%d)", (int)npm, (int)sh);
  }
  printf("{\"npm\":%d,\"sh\":%d,\"node\":%d,\"pgid\":%d}\n", (int)npm, (int)sh, (int)node,
         (int)npm);
  return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f) {
  fputs("usage: node dist/index.js [OPTION|ITEM]...   (PID-1 app; see the header of fakenode.c)\n"
        "       fakenode app [OPTION|ITEM]...\n"
        "       fakenode tree [--threads=NPM,NODE] [--sh=fake|real] [--noterm] [--bin=B] [--title=T] WORDS...\n"
        "       fakenode hash SPEC\n"
        "items: tree[/xN][/noterm][/threads:N][/bin:B]=NPX WORDS | proc[/MOD...]=<sep>argv0<sep>argv1... | odd\n"
        "options: --interval=SEC --reap=all|own|none --reap-delay=SEC --respawn --respawn-delay=SEC\n"
        "         --threads=N|APP,NPM,NODE --sh=auto|fake|real --quiet\n",
        f);
}

int main(int argc, char **argv) {
  find_paths();
  const char *role = getenv("FAKENODE_ROLE");
  if (role && *role) {
    if (strcmp(role, "npm") == 0) return role_npm(argc, argv);
    if (strcmp(role, "sh") == 0) return role_sh(argc, argv);
    if (strcmp(role, "server") == 0) return role_server();
    if (strcmp(role, "proc") == 0) return role_proc();
    die("unknown FAKENODE_ROLE=%s", role);
  }
  if (argc >= 2) {
    size_t l = strlen(argv[1]);
    if (strcmp(argv[1], "app") == 0) return app_main(argc, argv, 2);
    if (l > 3 && strcmp(argv[1] + l - 3, ".js") == 0) return app_main(argc, argv, 2);
    if (strcmp(argv[1], "tree") == 0) return tree_main(argc, argv);
    if (strcmp(argv[1], "hash") == 0 && argc == 3) {
      char h[17];
      npx_hash(argv[2], h);
      printf("%s\n", h);
      return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
      usage(stdout);
      return 0;
    }
  }
  if (argc == 1 && getpid() == 1) return app_main(argc, argv, 1);
  usage(stderr);
  return 2;
}
