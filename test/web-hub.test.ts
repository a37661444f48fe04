/**
 * The web UI on the hub, in headless Chromium: sign in with an API key, the instances the
 * account can reach with its role, an instance's views under its path; a reader sees no write
 * control, and a write forced from the reader's signed-in page is refused (403) and changes
 * nothing. Needs `npm run build`, /usr/bin/chromium and the test Postgres.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listenOn } from "../cli/commands/serve.js";
import { sessionKeys } from "../functions/api/session.js";
import { builtWebUi } from "../functions/api/web.js";
import { createHubApp } from "../functions/hub/app.js";
import { useTempHome } from "./helpers.js";
import { fingerprint, type HubFixture, hubFixture } from "./security/hub-fixture.js";
import { type Chromium, launchChromium, type WatchedPage, watchedPage } from "./web/browser.js";

useTempHome();

// the page's globals, as page.evaluate's functions read them in the browser
declare function fetch(url: string, init: object): Promise<{ status: number }>;

describe.skipIf(!process.env.DATABASE_URL)("web UI on the hub (Chromium)", () => {
  let fx: HubFixture;
  let app: ReturnType<typeof createHubApp>;
  let server: Awaited<ReturnType<typeof listenOn>>;
  let chromium: Chromium;
  let uid: string;
  let w: WatchedPage;

  const signIn = async (key: string): Promise<Page> => {
    w = await watchedPage(chromium);
    await w.page.goto(`${server.url}/ui/`);
    await w.page.getByLabel("API key").fill(key);
    await w.page.getByRole("button", { name: "Sign in" }).click();
    await w.page.getByRole("heading", { name: "Instances" }).waitFor();
    // the list asks each instance for the role: let those answer before the test moves on
    await w.page.waitForLoadState("networkidle");
    return w.page;
  };

  beforeAll(async () => {
    const web = builtWebUi();
    if (!web) throw new Error("dist/web is missing: run `npm run build` first");
    fx = await hubFixture();
    const file = join(fx.work, "counts.csv");
    writeFileSync(file, "gene,count\nCD3E,12\n");
    uid = (await fx.alpha.instance.artifacts.save(file, { key: "raw/counts.csv" })).artifact.uid;
    app = createHubApp({ hub: fx.hub, web, sessionKeys: sessionKeys(randomBytes(32)) });
    server = await listenOn(app.fetch, { port: 0, host: "127.0.0.1" });
    chromium = await launchChromium();
  });
  afterEach(async () => {
    const problems = w?.problems ?? [];
    await w?.close();
    expect(problems, "console errors or failed requests").toEqual([]);
  });
  afterAll(async () => {
    await chromium?.close();
    server?.server.close();
    await app?.close();
    await fx?.close();
  });

  it("lists the instances an account reaches, with its role; a stranger's list is empty", async () => {
    const page = await signIn(fx.keys.read);
    const row = page.getByRole("row", { name: /alice\/alpha/ });
    await row.waitFor();
    expect(await row.getByRole("cell").nth(1).textContent()).toBe("read");
    await w.close();
    const stranger = await signIn(fx.keys.stranger);
    await stranger.getByText("You can reach no instance yet").waitFor();
  });

  it("shows a reader no write control, and refuses the write the reader forces", async () => {
    const page = await signIn(fx.keys.read);
    await page.getByRole("link", { name: "alice/alpha" }).click();
    await page.getByRole("heading", { name: "Recent artifacts" }).waitFor();
    expect(page.url()).toBe(`${server.url}/instances/alice/alpha/ui/`);
    await page.getByRole("link", { name: "Artifacts", exact: true }).click();
    await page.getByRole("link", { name: "raw/counts.csv" }).waitFor();
    expect(await page.getByTestId("dropzone").count()).toBe(0);
    await page.getByRole("link", { name: "raw/counts.csv" }).click();
    await page.getByTestId("preview-table").waitFor();
    for (const control of ["Edit description", "Move to trash", "Add", "Set"]) {
      expect(await page.getByRole("button", { name: control, exact: true }).count(), control).toBe(
        0,
      );
    }
    // the reader's session, the UI's header, the page's origin: the role still decides
    const before = await fingerprint(fx.alpha.dbUrl, fx.alpha.root);
    w.expect(`/artifacts/${uid}`, 403);
    const statuses = await page.evaluate(async (u) => {
      const init = (method: string, body?: object) => ({
        method,
        headers: { "content-type": "application/json", "x-lamin-csrf": "1" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const base = `/instances/alice/alpha/artifacts/${u}`;
      return Promise.all([
        fetch(base, init("PATCH", { description: "forced" })).then((r) => r.status),
        fetch(base, init("DELETE")).then((r) => r.status),
        fetch(`${base}/features`, init("POST", { ulabels: ["x"] })).then((r) => r.status),
      ]);
    }, uid);
    expect(statuses).toEqual([403, 403, 403]);
    expect(await fingerprint(fx.alpha.dbUrl, fx.alpha.root)).toBe(before);
  });

  it("shows a writer the write controls, and the write goes through", async () => {
    const page = await signIn(fx.keys.write);
    await page.goto(`${server.url}/instances/alice/alpha/ui/artifacts/${uid}`);
    await page.getByRole("button", { name: "Edit description" }).click();
    await page.getByRole("textbox", { name: "Description" }).fill("by carol");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("by carol").waitFor();
    expect((await fx.alpha.instance.artifacts.get(uid)).description).toBe("by carol");
  });
});
