/**
 * The web UI of `lamin dev` (the built CLI, as a user runs it), in headless Chromium: the
 * one-time link signs in, a dropped file goes to the dev S3 endpoint with a presigned PUT (a
 * browser asks first with a CORS preflight, which the endpoint answers as a deployed bucket
 * does), and the download button takes the bytes from there. Needs `npm run build` and Chromium.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLamin, stopChild, tempDir, useTempHome } from "./helpers.js";
import { type Chromium, launchChromium, watchedPage } from "./web/browser.js";

useTempHome();

declare class DataTransfer {
  items: { add(file: unknown): void };
}

interface Ready {
  s3_endpoint: string;
  api_url: string;
  token: string;
  ui_url: string;
}

describe("lamin dev's web UI (Chromium)", () => {
  const work = tempDir("lamin-web-dev-");
  let dev: ChildProcess | undefined;
  let ready: Ready;
  let chromium: Chromium;

  beforeAll(async () => {
    ({ child: dev, ready } = await startLamin<Ready>([
      "dev",
      "--json",
      "--dir",
      join(work, "dev"),
      "--port",
      "0",
      "--s3-port",
      "0",
      "--bucket",
      "ui-lab",
      "--name",
      "web-dev",
    ]));
    chromium = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await stopChild(dev);
    rmSync(work, { recursive: true, force: true });
  });

  it("answers a browser's CORS preflight for a presigned PUT, as a deployed bucket does", async () => {
    const res = await fetch(`${ready.s3_endpoint}/ui-lab/some/key.csv?X-Amz-Signature=x`, {
      method: "OPTIONS",
      headers: {
        origin: ready.api_url,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    // a preflight is all it answers without a signature
    const unsigned = await fetch(`${ready.s3_endpoint}/ui-lab/some/key.csv`, {
      method: "PUT",
      body: "x",
      headers: { origin: ready.api_url },
    });
    expect(unsigned.status).toBe(403);
  });

  it("uploads a dropped file to the dev endpoint and downloads it from there", async () => {
    const w = await watchedPage(chromium);
    const { page } = w;
    const toBucket: string[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(ready.s3_endpoint)) toBucket.push(r.method());
    });
    await page.goto(ready.ui_url);
    await page.getByRole("heading", { name: "Recent artifacts" }).waitFor();
    await page.goto(`${ready.api_url}/ui/artifacts`);
    await page.getByTestId("dropzone").waitFor();
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["a,b\n1,2\n"], "dev.csv", { type: "text/csv" }));
      return dt;
    });
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer });
    await page.getByRole("status").getByText("saved: dev.csv").waitFor();
    expect(toBucket).toContain("PUT");
    await page.getByRole("link", { name: "dev.csv" }).click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download" }).click(),
    ]);
    expect(download.url().startsWith(ready.s3_endpoint)).toBe(true);
    expect(download.suggestedFilename()).toBe("dev.csv");
    await w.close();
    expect(w.problems).toEqual([]);
  });
});
