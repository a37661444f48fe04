/**
 * SST's links inside a deployed function: SST writes them, encrypted, beside the bundle and
 * `sst/resource` reads them. Only Lambda entries import this file (the CLI never bundles `sst`).
 */
import { Resource } from "sst/resource";
import type { Links } from "./stage.js";

export const sstLinks: Links = (name) => {
  const resources = Resource as unknown as Record<string, Record<string, unknown>>;
  return name in resources ? resources[name] : undefined;
};
