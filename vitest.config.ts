import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Files that need the machine to themselves: the 1,000-upload moto test is CPU-bound across
 * several processes (moto, the ingest function, the uploads) and missed its deadline when another
 * file ran beside it. They run one at a time, after everything else.
 */
const ALONE = ["test/ingest-moto.test.ts"];

export default defineConfig({
  test: {
    // PGlite needs seconds to start; databases and servers are real, so give hooks room.
    testTimeout: 60_000,
    // test files open many short-lived PGlite instances, like CLI commands (see cli/main.ts)
    execArgv: ["--liftoff-only"],
    hookTimeout: 120_000,
    pool: "forks",
    setupFiles: ["test/setup-home.ts"],
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      NO_COLOR: "1",
      // every test file creates instances: share one cached database template between them
      LAMIN_TEMPLATE_DIR: join(tmpdir(), "lamin-test-templates"),
    },
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: ALONE,
          // Two files at a time: most of a file's time is spent in other processes (lamin, PGlite
          // start, Postgres, servers), so two keep both CPUs of a CI runner busy.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "alone",
          include: ALONE,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
