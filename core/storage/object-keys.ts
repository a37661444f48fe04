/** What object stores (S3, GCS) share about roots and keys: `<scheme>://bucket/prefix`. */
import { ValidationError } from "../errors.js";

/**
 * `<scheme>://bucket/prefix` → its parts, prefix without surrounding slashes; `what` names the
 * kind of root in messages ("an S3", "a GCS").
 */
export function parseBucketRoot(
  root: string,
  scheme: "s3" | "gs",
  what: string,
): { bucket: string; prefix: string } {
  const m = new RegExp(`^${scheme}:\\/\\/([^/]+)\\/*(.*?)\\/*$`, "i").exec(root);
  const bucket = m?.[1] ?? "";
  if (!/^[a-z0-9][a-z0-9._-]{1,254}$/i.test(bucket)) {
    throw new ValidationError(
      `not ${what} storage root: '${root}'`,
      `write it as ${scheme}://bucket or ${scheme}://bucket/prefix`,
    );
  }
  return { bucket, prefix: m?.[2] ?? "" };
}

/** A storage-relative key names one object below the root: no leading '/', '.' or '..'. */
export function checkObjectKey(key: string): void {
  if (!key || key.startsWith("/") || key.split("/").some((s) => s === "." || s === "..")) {
    throw new ValidationError(
      `invalid storage key: '${key}'`,
      "use a relative key without '.' or '..' segments",
    );
  }
}
