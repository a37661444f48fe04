/**
 * The web UI end to end, in headless Chromium against an instance served as `lamin serve` serves
 * it (one server and one browser for the file): sign-in, the artifact table (filter, sort, page),
 * an artifact's page (previews, lineage, download), writes (upload by drag and drop, description,
 * labels, trash and restore), and what must never happen (a script of an artifact running, the
 * token in a page's URL). Every test fails on a console error or a failed request.
 * Needs `npm run build` (dist/web) and /usr/bin/chromium.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningApi, startApi } from "../cli/commands/serve.js";
import { toB64 } from "../core/hash.js";
import type { Instance } from "../core/instance.js";
import { loadModuleFolder } from "../core/modules/external.js";
import { enableModules, registerModule } from "../core/modules/index.js";
import { initInstance } from "../core/setup.js";
import { REPO, tempDir, useTempHome } from "./helpers.js";
import { type Chromium, launchChromium, type WatchedPage, watchedPage } from "./web/browser.js";
import { HOSTILE_HTML, type Seeded, seed } from "./web/seed.js";

useTempHome();

// the page's globals, as the functions that page.evaluate runs in the browser read them
declare const document: { cookie: string; activeElement: { textContent: string | null } | null };
declare const location: { href: string };
declare const window: { __pwned?: number };
declare class DataTransfer {
  items: { add(file: unknown): void };
}

describe("web UI in Chromium (lamin serve)", () => {
  let work: string;
  let ln: Instance;
  let api: RunningApi;
  let chromium: Chromium;
  let data: Seeded;
  let w: WatchedPage;
  let page: Page;
  /** A signed-in page of its own (its own cookies) for each test. */
  const open = async (path = "/ui/") => {
    w = await watchedPage(chromium);
    page = w.page;
    await signInWithToken(page);
    if (path !== "/ui/") await page.goto(`${api.url}${path}`);
    return page;
  };
  const signInWithToken = async (p: Page) => {
    await p.goto(`${api.url}/ui/`);
    await p.getByLabel("Access token").fill(api.token);
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByRole("heading", { name: "Recent artifacts" }).waitFor();
  };
  const uid = (key: string) => data.uids[key] as string;
  const rows = () => page.locator("table.grid tbody tr");

  beforeAll(async () => {
    if (!existsSync(join(REPO, "dist", "web", "index.html"))) {
      throw new Error("dist/web is missing: run `npm run build` first");
    }
    work = tempDir("lamin-web-");
    ln = await initInstance({ storage: join(work, "storage"), name: "webui" });
    data = await seed(ln, join(work, "files"));
    api = await startApi(ln, { port: 0, host: "127.0.0.1" });
    chromium = await launchChromium();
  });
  afterEach(async () => {
    const problems = w?.problems ?? [];
    await w?.close();
    expect(problems, "console errors or failed requests").toEqual([]);
  });
  afterAll(async () => {
    await chromium?.close();
    api?.close();
    await ln?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("signs in with the token, into an HttpOnly SameSite=Strict cookie; the token is in no URL", async () => {
    w = await watchedPage(chromium);
    page = w.page;
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await signInWithToken(page);
    const [cookie] = await w.context.cookies();
    expect(cookie).toMatchObject({
      name: `lamin_session_${new URL(api.url).port}`,
      httpOnly: true,
      sameSite: "Strict",
    });
    expect(cookie?.value).not.toContain(api.token);
    expect(urls.filter((u) => u.includes(api.token))).toEqual([]);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    // signing out ends the session
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Access token").waitFor();
  });

  it("signs in with the one-time link once; the link is gone from the address bar", async () => {
    w = await watchedPage(chromium);
    page = w.page;
    await page.goto(api.uiUrl);
    await page.getByRole("heading", { name: "Recent artifacts" }).waitFor();
    expect(page.url()).toBe(`${api.url}/ui/`);
    // the overview shows the instance's README block, rendered from Markdown
    await page.getByRole("heading", { name: "Demo lab" }).waitFor();
    expect(await page.locator("strong", { hasText: "processed" }).count()).toBe(1);
    const second = await watchedPage(chromium);
    second.expect("/session", 401);
    await second.page.goto(api.uiUrl);
    await second.page.getByLabel("Access token").waitFor();
    await second.close();
    expect(second.problems).toEqual([]);
  });

  it("filters, sorts and pages the artifact table", async () => {
    await open("/ui/artifacts");
    await expect.poll(() => rows().count()).toBe(8);
    // a filter by suffix, then by key prefix (kept in the page's URL)
    await page.getByLabel("Suffix").fill(".csv");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => rows().count()).toBe(1);
    expect(page.url()).toContain("suffix=.csv");
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Key prefix", { exact: true }).fill("raw/");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => rows().count()).toBe(2);
    // by label and by feature value
    await page.goto(`${api.url}/ui/artifacts?label=T+cell`);
    await expect.poll(() => rows().count()).toBe(1);
    await expect.poll(() => rows().first().textContent()).toContain("raw/counts.csv");
    await page.goto(`${api.url}/ui/artifacts?feature=${encodeURIComponent("temperature>30")}`);
    await expect.poll(() => rows().count()).toBe(1);
    await page.goto(`${api.url}/ui/artifacts?q=evil`);
    await expect.poll(() => rows().count()).toBe(2);
    // sort by size: the whole table (the API orders, pages follow), then by creation, oldest first
    await page.goto(`${api.url}/ui/artifacts`);
    await expect.poll(() => rows().count()).toBe(8);
    await page.getByRole("button", { name: "Size" }).click();
    await expect
      .poll(() => page.getByRole("columnheader", { name: /Size/ }).getAttribute("aria-sort"))
      .toBe("ascending");
    const sizesOf = async () =>
      (await page.locator("table.grid tbody td.num").allTextContents()).map(
        (s) => Number.parseFloat(s) * (s.includes("KB") ? 1000 : 1),
      );
    const ascending = await sizesOf();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.getByRole("button", { name: "Size" }).click();
    await expect.poll(() => page.url()).toContain("sort=-size");
    await expect.poll(async () => (await sizesOf())[0]).toBe(Math.max(...ascending));
    // a sorted table pages in its order
    await page.goto(`${api.url}/ui/artifacts?sort=size&size=3`);
    await expect.poll(() => rows().count()).toBe(3);
    const firstSizes = await sizesOf();
    await page.getByRole("button", { name: "Next page" }).click();
    await expect.poll(() => page.getByText("page 2").count()).toBe(1);
    await expect.poll(() => rows().count()).toBe(3);
    expect(Math.min(...(await sizesOf()))).toBeGreaterThanOrEqual(Math.max(...firstSizes));
    await page.goto(`${api.url}/ui/artifacts`);
    await page.getByRole("button", { name: "Created at" }).click();
    await expect.poll(() => rows().first().textContent()).toContain("raw/counts.csv");
    // pages of 3: forward twice, back once, each a keyset page
    await page.goto(`${api.url}/ui/artifacts?size=3`);
    await expect.poll(() => rows().count()).toBe(3);
    const firstPage = await rows().allTextContents();
    await page.getByRole("button", { name: "Next page" }).click();
    await expect.poll(() => page.getByText("page 2").count()).toBe(1);
    await expect.poll(() => rows().count()).toBe(3);
    const secondPage = await rows().allTextContents();
    expect(secondPage).not.toEqual(firstPage);
    await page.getByRole("button", { name: "Next page" }).click();
    await expect.poll(() => rows().count()).toBe(2);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await expect.poll(async () => (await rows().allTextContents()).join()).toBe(secondPage.join());
  });

  it("opens an artifact from the table and previews CSV, image, Markdown, JSON and TSV", async () => {
    await open("/ui/artifacts");
    await page.getByRole("link", { name: "raw/counts.csv" }).click();
    await page.getByRole("heading", { name: "raw/counts.csv" }).waitFor();
    const table = page.getByTestId("preview-table");
    await expect
      .poll(() => table.locator("th").allTextContents())
      .toEqual(["gene", "count", "sample"]);
    expect(await table.locator("tbody tr").nth(2).locator("td").first().textContent()).toBe(
      "MS4A1, B",
    );
    // its features and labels, its collection, the code to load it
    await page.getByRole("cell", { name: "37.5" }).waitFor();
    await page.getByText("T cell").first().waitFor();
    await page.getByRole("link", { name: "sets/raw" }).waitFor();
    // the schema it was validated against, and that schema's page
    await page.getByRole("link", { name: "counts", exact: true }).click();
    await page.getByRole("heading", { name: "counts" }).waitFor();
    await page.goBack();
    await page.getByRole("heading", { name: "raw/counts.csv" }).waitFor();
    expect(await page.locator("figure pre").last().textContent()).toContain(
      `ln.Artifact.get("${uid("raw/counts.csv")}")`,
    );

    // the header says which space an artifact is in
    expect(await page.locator("header dd.space").textContent()).toBe("all");
    await ln.spaces.create("imaging");
    await ln.artifacts.update(uid("images/umap.png"), { space: "imaging" });
    await page.goto(`${api.url}/ui/artifacts/${uid("images/umap.png")}`);
    await expect.poll(() => page.locator("header dd.space").textContent()).toBe("imaging");
    const img = page.getByRole("img", { name: /preview of images\/umap.png/ });
    await expect
      .poll(() => img.evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(16);

    await page.goto(`${api.url}/ui/artifacts/${uid("docs/README.md")}`);
    const md = page.getByTestId("preview-markdown");
    await md.getByRole("heading", { name: "Counts README" }).waitFor();
    expect(await md.locator("strong").textContent()).toBe("single-cell");
    expect(await md.getByRole("link", { name: "the docs" }).getAttribute("href")).toBe(
      "https://docs.lamin.ai",
    );
    // raw HTML is text, a javascript: link is no link
    expect(await md.locator("pre").first().textContent()).toContain("<script>");
    expect(await md.getByRole("link", { name: "bad link" }).count()).toBe(0);
    expect(await md.locator("script").count()).toBe(0);

    await page.goto(`${api.url}/ui/artifacts/${uid("meta/config.json")}`);
    await expect
      .poll(() => page.getByTestId("preview-text").locator("pre").textContent())
      .toContain('"threshold": 0.5');
    await page.goto(`${api.url}/ui/artifacts/${uid("raw/samples.tsv")}`);
    await expect
      .poll(() => page.getByTestId("preview-table").locator("td").first().textContent())
      .toBe("s1");
  });

  it("previews a Parquet file from its footer and the first pages of its first row group only (range requests)", async () => {
    await open();
    const ranges: [number, number][] = [];
    page.on("request", (r) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(r.headers().range ?? "");
      if (m && r.url().includes(uid("processed/table.parquet")))
        ranges.push([Number(m[1]), Number(m[2])]);
    });
    await page.goto(`${api.url}/ui/artifacts/${uid("processed/table.parquet")}`);
    const table = page.getByTestId("preview-table");
    await expect.poll(() => table.locator("tbody tr").count()).toBe(20);
    expect(await table.locator("th").allTextContents()).toEqual(["cell_id", "gene_count", "score"]);
    expect(await table.locator("tbody tr").nth(3).locator("td").first().textContent()).toBe(
      "cell-3",
    );
    // where the bytes are: the last 16 KiB (the footer's fetch), the first row group, and the
    // offset index of its columns (where their pages start); nothing of the other row groups
    const size = data.parquet.length;
    const meta = parquetMetadata(data.parquet.buffer as ArrayBuffer);
    expect(meta.row_groups.length).toBe(4);
    const columns = meta.row_groups[0]?.columns ?? [];
    const chunks = columns.map((c) => {
      const start = Number(c.meta_data?.dictionary_page_offset ?? c.meta_data?.data_page_offset);
      return [start, start + Number(c.meta_data?.total_compressed_size) - 1];
    });
    const group = [
      Math.min(...chunks.map((c) => c[0] as number)),
      Math.max(...chunks.map((c) => c[1] as number)),
    ];
    const indexes = columns
      .filter((c) => c.offset_index_offset !== undefined)
      .map((c) => [
        Number(c.offset_index_offset),
        Number(c.offset_index_offset) + Number(c.offset_index_length) - 1,
      ]);
    const allowed = [[size - 16 * 1024, size - 1], group, ...indexes];
    const inside = ([s, e]: [number, number]) =>
      allowed.some(([a, b]) => s >= (a as number) && e <= (b as number));
    expect(ranges.length).toBeGreaterThan(0);
    for (const r of ranges) expect(inside(r), `range ${r}`).toBe(true);
    const read = ranges.reduce((sum, [s, e]) => sum + e - s + 1, 0);
    console.log(
      `Parquet preview: read ${read} of ${size} bytes in ${ranges.length} range requests`,
    );
    // the first row group is a quarter of the file: far less is read
    expect(read).toBeLessThan(16 * 1024 + ((group[1] as number) - (group[0] as number) + 1));
  });

  it("follows lineage: click the run, then its transform's source code", async () => {
    await open(`/ui/artifacts/${uid("processed/table.parquet")}`);
    const run = page.locator(`g.node.run[data-id="${data.uids.run}"]`);
    await run.waitFor();
    // the layout places the input left of its run, the run left of its output
    const x = (id: string) =>
      page.locator(`g.node[data-id="${id}"] rect`).evaluate((e) => Number(e.getAttribute("x")));
    expect(await x(uid("raw/counts.csv"))).toBeLessThan(await x(data.uids.run as string));
    expect(await x(data.uids.run as string)).toBeLessThan(await x(uid("processed/table.parquet")));
    // keyboard: the nodes are in the tab order and open with Enter
    await run.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Outputs" }).waitFor();
    expect(page.url()).toContain(`/ui/registries/runs/${data.uids.run}`);
    await page.getByRole("link", { name: "processed/table.parquet" }).waitFor();
    // its input, through the lineage of its output
    await page
      .getByRole("region", { name: "Inputs" })
      .getByRole("link", { name: "raw/counts.csv" })
      .waitFor();
    await page.getByRole("link", { name: data.uids.transform as string }).click();
    await page.getByRole("heading", { name: "Source code" }).waitFor();
    expect(await page.locator("pre code").textContent()).toContain("turns counts into a table");
    // back on the artifact, a mouse click on a node opens it
    await page.goto(`${api.url}/ui/artifacts/${uid("processed/table.parquet")}`);
    await page.locator(`g.node.artifact[data-id="${uid("raw/counts.csv")}"]`).click();
    await page.getByRole("heading", { name: "raw/counts.csv" }).waitFor();
  });

  it("searches an enabled module's registry (bionty)", async () => {
    await open("/ui/modules");
    await page.getByText("enabled", { exact: true }).waitFor();
    await page.getByLabel("Registry").selectOption("bionty.CellType");
    await page.getByLabel("Search", { exact: true }).fill("t cell");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("cell", { name: "T cell", exact: true }).waitFor();
    expect(page.url()).toContain("registry=bionty.CellType");
    // the form shows the search it answers
    expect(await page.getByLabel("Registry").inputValue()).toBe("bionty.CellType");
  });

  it("downloads an artifact's bytes as a file", async () => {
    await open(`/ui/artifacts/${uid("raw/counts.csv")}`);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("counts.csv");
    const path = await download.path();
    expect(readFileSync(path, "utf8")).toContain("CD3E,12,s1");
  });

  it("uploads a file by drag and drop", async () => {
    await open("/ui/artifacts");
    await page.getByLabel("under key prefix").fill("dropped/");
    const content = "x,y\n1,2\n3,4\n";
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "new.csv", { type: "text/csv" }));
      return dt;
    }, content);
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer });
    await page.getByRole("status").getByText("saved: dropped/new.csv").waitFor();
    await page.getByRole("link", { name: "dropped/new.csv" }).waitFor();
    const saved = await ln.artifacts.get({ key: "dropped/new.csv" });
    expect(saved).toMatchObject({ size: content.length, hash_type: "md5" });
    // the hash the browser computed is LaminDB's: the same bytes saved here dedup to it
    expect(saved.hash).toBe(toB64(createHash("md5").update(content).digest()));
  });

  it("edits the description, adds and removes a label, sets a feature value", async () => {
    await open(`/ui/artifacts/${uid("raw/samples.tsv")}`);
    await page.getByRole("button", { name: "Edit description" }).click();
    await page.getByRole("textbox", { name: "Description" }).fill("donor sheet");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("donor sheet").waitFor();
    expect((await ln.artifacts.get(uid("raw/samples.tsv"))).description).toBe("donor sheet");

    await page.getByLabel("Add label").fill("B cell");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByRole("button", { name: "remove label B cell" }).waitFor();
    expect((await ln.annotations.get("artifact", uid("raw/samples.tsv"))).ulabels).toEqual([
      "B cell",
    ]);
    await page.getByRole("button", { name: "remove label B cell" }).click();
    await page.getByText("No labels.").waitFor();
    expect((await ln.annotations.get("artifact", uid("raw/samples.tsv"))).ulabels).toEqual([]);

    await page.getByLabel("Set feature value").fill("temperature=21.5");
    await page.getByRole("button", { name: "Set", exact: true }).click();
    await page.getByRole("cell", { name: "21.5" }).waitFor();
    expect((await ln.annotations.get("artifact", uid("raw/samples.tsv"))).features).toEqual({
      temperature: 21.5,
    });
  });

  it("moves an artifact to the trash (shown in the trash view) and restores it", async () => {
    await open(`/ui/artifacts/${uid("meta/config.json")}`);
    await page.getByRole("button", { name: "Move to trash" }).click();
    await page.getByRole("button", { name: "Restore" }).waitFor();
    expect((await ln.artifacts.get(uid("meta/config.json"))).branch).toBe("trash");
    await page.getByRole("link", { name: "Trash", exact: true }).click();
    await page.getByRole("link", { name: "meta/config.json" }).click();
    await page.getByRole("button", { name: "Restore" }).click();
    await page.getByRole("button", { name: "Move to trash" }).waitFor();
    expect((await ln.artifacts.get(uid("meta/config.json"))).branch).toBe("main");
  });

  it("never runs an HTML or SVG artifact's script in the UI's origin; pages carry a strict CSP", async () => {
    w = await watchedPage(chromium);
    page = w.page;
    const pwned: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("pwned")) pwned.push(r.url());
    });
    await signInWithToken(page);
    const res = await page.goto(`${api.url}/ui/artifacts`);
    const csp = res?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    await page.getByRole("heading", { name: "Artifacts" }).waitFor();
    // the HTML's preview is its text
    await page.goto(`${api.url}/ui/artifacts/${uid("attack/evil.html")}`);
    await expect
      .poll(() => page.getByTestId("preview-text").locator("pre").textContent())
      .toBe(HOSTILE_HTML);
    // the SVG's preview is an image: scripts of an <img> never run
    await page.goto(`${api.url}/ui/artifacts/${uid("attack/evil.svg")}`);
    const img = page.getByRole("img", { name: /preview of attack\/evil.svg/ });
    await expect
      .poll(() => img.evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(40);
    // opening its bytes in the page's origin is a download, never a page
    const tab = await w.context.newPage();
    tab.on("request", (r) => {
      if (r.url().includes("pwned")) pwned.push(r.url());
    });
    const [download] = await Promise.all([
      tab.waitForEvent("download"),
      tab.goto(`${api.url}/artifacts/${uid("attack/evil.html")}/download`).catch(() => undefined),
    ]);
    expect(download.suggestedFilename()).toBe("evil.html");
    await page.waitForTimeout(300);
    for (const p of [page, tab]) {
      expect(await p.evaluate(() => window.__pwned)).toBeUndefined();
      expect(await p.title()).not.toBe("pwned");
    }
    expect(pwned).toEqual([]);
  });

  it("keyboard: a skip link, labelled fields, and the table's headers are buttons in order", async () => {
    await open("/ui/artifacts");
    await expect.poll(() => rows().count()).toBeGreaterThan(0);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    for (const label of [
      "Search keys",
      "Suffix",
      "Kind",
      "Key prefix",
      "Label",
      "Project",
      "Feature value",
    ]) {
      expect(await page.getByLabel(label, { exact: true }).count(), label).toBe(1);
    }
    await page.getByLabel("Suffix").focus();
    await page.keyboard.type(".png");
    await page.keyboard.press("Enter");
    await expect.poll(() => rows().count()).toBe(1);
    expect(await page.locator("table.grid thead th[scope=col]").count()).toBe(7);
  });
  // last: enabling pertdb adds a second enabled module to the page the bionty test reads
  it("lists and shows the records of a module package's registry (pertdb)", async () => {
    registerModule(await loadModuleFolder(join(REPO, "modules", "pertdb")));
    await enableModules(ln, ["bionty", "pertdb"]);
    const hostile = '<img src=x onerror="window.__pwned=1">';
    // beside the 8 compounds pertdb seeds
    const imatinib = await ln.modules.create("pertdb.Compound", {
      name: "nilotinib",
      chembl_id: "CHEMBL255863",
      moa: hostile,
    });
    await ln.modules.create("pertdb.Compound", { name: "dasatinib" });
    await open("/ui/modules");
    await page.getByRole("link", { name: "pertdb.Compound", exact: true }).click();
    await page.getByRole("heading", { name: "pertdb.Compound" }).waitFor();
    await expect.poll(() => rows().count()).toBe(10);
    // a value is text, never markup
    await page.getByRole("cell", { name: hostile }).waitFor();
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    await page.getByLabel("Name").fill("nilotinib");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => rows().count()).toBe(1);
    await page.getByRole("link", { name: imatinib.uid }).click();
    await page.getByRole("heading", { name: "nilotinib" }).waitFor();
    await page.getByText("CHEMBL255863", { exact: true }).waitFor();
    // a uid that is no record
    await page.goto(`${api.url}/ui/modules/pertdb.Compound/000000000000`);
    await page.getByText("No pertdb.Compound record 000000000000.").waitFor();
  });
});
