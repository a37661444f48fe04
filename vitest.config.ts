import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // PGlite needs seconds to start; databases and servers are real, so give hooks room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      NO_COLOR: "1",
      // every test file creates instances: share one cached database template between them
      LAMIN_TEMPLATE_DIR: join(tmpdir(), "lamin-test-templates"),
    },
  },
});
