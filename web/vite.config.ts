/**
 * The web UI's build (scripts/build.mjs runs it into dist/web/): Preact, hashed file names under
 * /ui/assets/, no inline script or style (the pages' CSP forbids them), nothing from a CDN.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    // a polyfill would be an inline script; every browser the UI targets has modulepreload
    modulePreload: { polyfill: false },
    // never inline assets as data: URLs into CSS or JS
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    target: "es2022",
  },
  logLevel: "warn",
});
