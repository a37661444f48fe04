/**
 * Load an AWS SDK package (`@aws-sdk/*`) on first use, with `require`. Why not `import`:
 * - the Lambda bundles leave the SDK out (the runtime provides it), and a bare ESM `import` of a
 *   package outside the bundle's folder does not resolve through NODE_PATH, `require` does;
 * - commands that never touch AWS do not pay for loading it.
 */
import { createRequire } from "node:module";

export const requireAwsSdk = createRequire(import.meta.url) as <T = unknown>(name: string) => T;
