/** The backend for a storage root: a local folder, an S3 bucket or a GCS bucket. */
import { ValidationError } from "../errors.js";
import { GcsStorage } from "./gcs.js";
import { LocalStorage } from "./local.js";
import { S3Storage } from "./s3.js";
import type { StorageBackend } from "./types.js";

export interface StorageOptions {
  /**
   * S3: an S3-compatible endpoint URL (default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL,
   * then AWS). GCS: another endpoint, e.g. an emulator (default: STORAGE_EMULATOR_HOST, then
   * Google).
   */
  endpoint?: string;
  region?: string;
}

/**
 * The storage at `root`: a path, `file://...`, `s3://bucket/prefix` or `gs://bucket/prefix`. No
 * request is made.
 */
export function openStorage(root: string, opts: StorageOptions = {}): StorageBackend {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(root)?.[1]?.toLowerCase();
  if (!scheme || scheme === "file") return new LocalStorage(scheme ? new URL(root).pathname : root);
  if (scheme === "s3") return new S3Storage(root, opts);
  if (scheme === "gs") {
    return new GcsStorage(root, opts.endpoint ? { endpoint: opts.endpoint } : {});
  }
  throw new ValidationError(
    `storage '${root}' is not supported`,
    "use a local folder, s3://bucket/prefix or gs://bucket/prefix",
  );
}
