/**
 * Every test file starts with a settings folder of its own (files that need another call
 * `useTempHome`): a test that forgets never writes into the user's ~/.config/lamindb-serverless.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

if (!process.env.LAMIN_HOME?.startsWith(tmpdir())) {
  const home = mkdtempSync(join(tmpdir(), "lamin-home-"));
  process.env.LAMIN_HOME = home;
  process.env.LAMIN_CACHE_DIR = join(home, "cache");
  delete process.env.LAMIN_INSTANCE;
}
