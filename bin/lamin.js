#!/usr/bin/env node
// The `lamin` command. dist/ is built by `npm install` (prepare) or `npm run build`.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "error: lamin is not built yet\nhint: run `npm install` (or `npm run build`) in the lamindb-serverless folder\n",
  );
  process.exit(1);
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
await import(cli.href);
