/** The backend for a storage root: a local folder or an S3 bucket; `gs://` joins here later. */
import { ValidationError } from "../errors.js";
import { LocalStorage } from "./local.js";
import { S3Storage } from "./s3.js";
import type { StorageBackend } from "./types.js";

export interface StorageOptions {
  /** S3-compatible endpoint URL (default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS). */
  endpoint?: string;
  region?: string;
}

/** The storage at `root`: a path, `file://...` or `s3://bucket/prefix`. No request is made. */
export function openStorage(root: string, opts: StorageOptions = {}): StorageBackend {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(root)?.[1]?.toLowerCase();
  if (!scheme || scheme === "file") return new LocalStorage(scheme ? new URL(root).pathname : root);
  if (scheme === "s3") return new S3Storage(root, opts);
  if (scheme === "gs") {
    throw new ValidationError(
      `storage '${root}': Google Cloud Storage is not supported yet`,
      "use an s3:// bucket (or an S3-compatible one with --endpoint-url) or a local folder",
    );
  }
  throw new ValidationError(
    `storage '${root}' is not supported`,
    "use a local folder or s3://bucket/prefix",
  );
}
