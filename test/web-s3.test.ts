/**
 * The web UI on an instance whose storage is an S3 bucket (s3rver, with the CORS a deployed
 * bucket has): a file dropped on the page goes straight to the bucket with a presigned PUT (the
 * page's CSP names the bucket's origin, and nothing else besides its own), and the download
 * button is a presigned GET answered as an attachment. Needs `npm run build` and Chromium.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApi, startApi } from "../cli/commands/serve.js";
import type { Instance } from "../core/instance.js";
import { initInstance } from "../core/setup.js";
import { tempDir, useTempHome } from "./helpers.js";
import { OPEN_CORS, type S3rverHandle, startS3rver } from "./servers/s3rver.js";
import { type Chromium, launchChromium, watchedPage } from "./web/browser.js";

useTempHome();

declare class DataTransfer {
  items: { add(file: unknown): void };
}

describe("web UI on S3 storage (Chromium)", () => {
  let s3: S3rverHandle;
  let ln: Instance;
  let api: RunningApi;
  let chromium: Chromium;
  let work: string;

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ["ui-lab"], configs: [OPEN_CORS] });
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    work = tempDir("lamin-web-s3-");
    ln = await initInstance({
      storage: "s3://ui-lab/data",
      name: "ui-s3",
      endpoint: s3.endpoint,
      pgliteDir: join(work, "pglite"),
    });
    api = await startApi(ln, { port: 0, host: "127.0.0.1" });
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    api?.close();
    await ln?.close();
    await s3?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("uploads a dropped file straight to the bucket, and downloads it from there", async () => {
    const w = await watchedPage(chromium);
    const { page } = w;
    const toBucket: string[] = [];
    const bytesFromApi: string[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(s3.endpoint))
        toBucket.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    // no answer of the API carries an artifact's bytes (a presigned URL as JSON, or a redirect)
    page.on("response", (r) => {
      const type = r.headers()["content-type"] ?? "";
      if (r.url().startsWith(api.url) && type.startsWith("application/octet-stream"))
        bytesFromApi.push(`${r.status()} ${r.url()}`);
    });
    const res = await page.goto(api.uiUrl);
    expect(res?.headers()["content-security-policy"]).toContain(
      `connect-src 'self' ${s3.endpoint};`,
    );
    await page.getByRole("heading", { name: "Recent artifacts" }).waitFor();
    await page.goto(`${api.url}/ui/artifacts`);
    await page.getByTestId("dropzone").waitFor();
    const content = "gene,count\nCD3E,12\n";
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "s3.csv", { type: "text/csv" }));
      return dt;
    }, content);
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer });
    await page.getByRole("status").getByText("saved: s3.csv").waitFor();
    const saved = await ln.artifacts.get({ key: "s3.csv" });
    expect(saved.size).toBe(content.length);
    // the bytes went to the bucket, not through the API
    expect(toBucket.filter((r) => r.startsWith("PUT /ui-lab/data/"))).toHaveLength(1);

    await page.getByRole("link", { name: "s3.csv" }).click();
    // the preview reads its rows from the bucket with a presigned URL, not through the API
    await page.getByRole("cell", { name: "CD3E" }).waitFor();
    expect(toBucket.filter((r) => r.startsWith("GET /ui-lab/data/"))).toHaveLength(1);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download" }).click(),
    ]);
    expect(download.url().startsWith(s3.endpoint)).toBe(true);
    expect(download.suggestedFilename()).toBe("s3.csv");
    expect(bytesFromApi).toEqual([]);
    await w.close();
    expect(w.problems).toEqual([]);
  });
});
