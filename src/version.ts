// Kept in step with package.json by hand (test/unit/version.test.ts checks it); the compiled binary
// cannot read package.json at run time.
export const VERSION = '0.1.0';

// Replaced by scripts/build.ts at build time (Bun's `define`); absent when run from source.
declare const PIDWARDEN_BUILD_COMMIT: string | undefined;
declare const PIDWARDEN_BUILD_PLATFORM: string | undefined;

/** The git commit the binary was built from ("+dirty" with uncommitted changes), else "unknown". */
export const COMMIT: string = typeof PIDWARDEN_BUILD_COMMIT === 'string' ? PIDWARDEN_BUILD_COMMIT : 'unknown';
/** The platform the binary was built for (linux-x64, linux-x64-musl, linux-arm64). */
export const PLATFORM: string = typeof PIDWARDEN_BUILD_PLATFORM === 'string' ? PIDWARDEN_BUILD_PLATFORM : `${process.platform}-${process.arch}`;

/** What `pidwarden --version` prints: `0.1.0 (commit 8998b73c1a2b, linux-x64)`. */
export const VERSION_LINE = `${VERSION} (commit ${COMMIT}, ${PLATFORM})`;
