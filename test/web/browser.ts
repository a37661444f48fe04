/**
 * Headless Chromium (Debian's `chromium`) driven by playwright-core, for the web UI's tests,
 * screenshots and benchmark. A page records every console error, uncaught error and failed
 * request (network failure, or an answer >= 400 that the test did not say it expects), so a
 * test can fail on any of them.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.LAMIN_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * One browser for a test file. Playwright gives each launch a fresh profile folder of its own
 * (its `--user-data-dir`, removed on close), and each context its own cookies.
 */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set LAMIN_CHROMIUM)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests so far. */
  problems: string[];
  /** Answers >= 400 with these (url substring, status) are expected by the test. */
  expect(urlPart: string, status: number): void;
  close(): Promise<void>;
}

/** A page in a new context (its own cookies) that records what went wrong. */
export async function watchedPage(
  chromium: Chromium,
  opts: { acceptDownloads?: boolean } = {},
): Promise<WatchedPage> {
  const context = await chromium.browser.newContext({
    acceptDownloads: opts.acceptDownloads ?? true,
    viewport: { width: 1280, height: 860 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const expected: { urlPart: string; status: number }[] = [];
  const isExpected = (url: string, status: number) =>
    expected.some((e) => url.includes(e.urlPart) && e.status === status);
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // the browser logs every answer >= 400 as a console error too: those the test expects pass
    const status = /status of (\d{3})/.exec(m.text())?.[1];
    const url = m.location().url;
    if (status && isExpected(url, Number(status))) return;
    problems.push(`console: ${m.text()} (${url})`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}\n${e.stack ?? ""}`));
  // requests in flight when the page leaves (the test navigates) are aborted by the browser:
  // not a failure of the page. Requests are numbered to tell them.
  const order = new WeakMap<object, number>();
  let sent = 0;
  let leftAt = 0;
  page.on("request", (r) => {
    order.set(r, ++sent);
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) leftAt = sent;
  });
  page.on("requestfailed", (r) => {
    const aborted = r.failure()?.errorText === "net::ERR_ABORTED";
    // a navigation that became a download, or a request of a page that was left
    if (aborted && (r.isNavigationRequest() || (order.get(r) ?? 0) < leftAt)) return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !isExpected(r.url(), r.status())) {
      problems.push(`answer ${r.status()}: ${r.request().method()} ${r.url()}`);
    }
  });
  return {
    page,
    context,
    problems,
    expect: (urlPart, status) => expected.push({ urlPart, status }),
    close: () => context.close(),
  };
}
