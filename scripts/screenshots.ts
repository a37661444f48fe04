/**
 * `npm run screenshots`: PNGs of the web UI's main views in docs/screenshots/, from a demo
 * instance (test/web/seed.ts) served like `lamin serve`, in headless Chromium. Needs the build
 * (dist/web) and /usr/bin/chromium.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startApi } from "../cli/commands/serve.js";
import { initInstance } from "../core/setup.js";
import { tempDir, useTempHome } from "../test/helpers.js";
import { launchChromium, watchedPage } from "../test/web/browser.js";
import { seed } from "../test/web/seed.js";

const OUT = join(import.meta.dirname, "..", "docs", "screenshots");

const home = useTempHome();
const work = tempDir("lamin-screenshots-");
const instance = await initInstance({ storage: join(work, "storage"), name: "demo" });
const { uids } = await seed(instance, join(work, "files"));
const api = await startApi(instance, { port: 0, host: "127.0.0.1" });
const chromium = await launchChromium();
try {
  mkdirSync(OUT, { recursive: true });
  const { page, problems } = await watchedPage(chromium);
  await page.goto(api.uiUrl);
  await page.getByRole("heading", { name: "Recent artifacts" }).waitFor();
  const shots: [string, string, string][] = [
    ["overview", "/ui/", "Recent artifacts"],
    ["artifacts", "/ui/artifacts", "Artifacts"],
    ["artifact-csv", `/ui/artifacts/${uids["raw/counts.csv"]}`, "Lineage"],
    ["artifact-parquet", `/ui/artifacts/${uids["processed/table.parquet"]}`, "Lineage"],
    ["artifact-markdown", `/ui/artifacts/${uids["docs/README.md"]}`, "Preview"],
    ["run", `/ui/registries/runs/${uids.run}`, "Outputs"],
    ["transform", `/ui/registries/transforms/${uids.transform}`, "Source code"],
    ["collection", `/ui/registries/collections/${uids.collection}`, "Members"],
    ["features", "/ui/registries/features", "Features"],
    ["modules", "/ui/modules?registry=bionty.CellType&q=t+cell", "Modules"],
  ];
  for (const [name, path, heading] of shots) {
    await page.goto(`${api.url}${path}`);
    await page.getByRole("heading", { name: heading, exact: true }).first().waitFor();
    // previews and the graph load after the page
    await page.waitForLoadState("networkidle");
    await page.screenshot({
      path: join(OUT, `${name}.png`),
      fullPage: name === "artifact-parquet",
    });
    console.log(`docs/screenshots/${name}.png`);
  }
  // the sign-in form, in a context without the cookie
  const fresh = await watchedPage(chromium);
  await fresh.page.goto(`${api.url}/ui/`);
  await fresh.page.getByLabel("Access token").waitFor();
  await fresh.page.screenshot({ path: join(OUT, "sign-in.png") });
  console.log("docs/screenshots/sign-in.png");
  if (problems.length > 0 || fresh.problems.length > 0) {
    throw new Error(`the UI reported problems:\n${[...problems, ...fresh.problems].join("\n")}`);
  }
} finally {
  await chromium.close();
  api.close();
  await instance.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
