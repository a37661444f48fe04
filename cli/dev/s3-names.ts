/**
 * What a request to `lamin dev`'s S3 endpoint may name. s3rver keeps object `a/b` as the file
 * `<dir>/s3/<bucket>/a/b._S3rver_object` (plus `.md5` and `._S3rver_metadata.json` beside it),
 * so a key is a path: `..`, an absolute key or a long segment would reach outside the folder or
 * fail in the file system. Every name is checked here, decoded exactly as s3rver decodes it,
 * before s3rver sees it.
 */
import { S3Failure, shown } from "./s3-error.js";
import { decodeComponent, uriEncode } from "./sigv4.js";

/** S3's limit for a whole key, in bytes. */
const MAX_KEY_BYTES = 1024;
/**
 * A key segment becomes a file name with s3rver's longest suffix, `._S3rver_metadata.json`
 * (22 bytes), and file names have at most 255 bytes.
 */
const MAX_SEGMENT_BYTES = 255 - "._S3rver_metadata.json".length;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The bucket and key of a path-style request, decoded; either may be absent (`/`, `/bucket`). */
export interface Target {
  bucket?: string;
  key?: string;
}

/**
 * The bucket and key `rawPath` names, decoded as s3rver's router decodes them (the bucket
 * segment, then the rest as one component), each checked.
 */
export function parseTarget(rawPath: string): Target {
  if (!rawPath.startsWith("/")) {
    throw new S3Failure("InvalidURI", 400, "the request path must start with /");
  }
  const slash = rawPath.indexOf("/", 1);
  const rawBucket = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  if (!rawBucket) {
    if (rawPath === "/") return {};
    throw new S3Failure("InvalidURI", 400, "the request path starts with //: name a bucket first");
  }
  const bucket = decodeComponent(rawBucket, "the bucket name");
  checkBucket(bucket);
  const rest = slash < 0 ? "" : rawPath.slice(slash + 1);
  if (!rest) return { bucket };
  const key = decodeComponent(rest, "the object key");
  checkKey(key);
  return { bucket, key };
}

/** The path of `target` as s3rver is sent it: each part encoded, so it decodes to exactly that. */
export function targetPath(target: Target): string {
  if (target.bucket === undefined) return "/";
  const key = target.key === undefined ? "" : `/${target.key.split("/").map(uriEncode).join("/")}`;
  return `/${uriEncode(target.bucket)}${key}`;
}

function checkBucket(bucket: string): void {
  if (!BUCKET.test(bucket) || bucket.includes("..")) {
    throw new S3Failure(
      "InvalidBucketName",
      400,
      `the bucket name ${shown(bucket)} is not valid: use 3-63 lower-case letters, digits, dots and hyphens`,
    );
  }
}

const invalidKey = (key: string, why: string) =>
  new S3Failure("InvalidArgument", 400, `the object key ${shown(key)} ${why}`);

/** Refuse a key that s3rver's folder cannot hold as that key, inside the folder. */
export function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_KEY_BYTES) {
    throw new S3Failure(
      "KeyTooLongError",
      400,
      `the object key ${shown(key, 60)} has ${bytes} bytes; keys have at most ${MAX_KEY_BYTES}`,
    );
  }
  if (!key) throw invalidKey(key, "is empty");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) throw invalidKey(key, "holds control characters");
  if (key.includes("\\")) throw invalidKey(key, "holds a backslash: separate folders with /");
  const segments = key.split("/");
  if (segments[0] === "") throw invalidKey(key, "is absolute: start it without /");
  segments.forEach((segment, i) => {
    if (segment === "." || segment === "..") {
      throw invalidKey(key, "has a '.' or '..' segment, which would leave its folder");
    }
    // `a//b` would be stored as `a/b`; a trailing `/` (a folder marker) is kept
    if (segment === "" && i < segments.length - 1)
      throw invalidKey(key, "has an empty segment (//)");
    if (segment.includes("._S3rver_")) {
      throw invalidKey(key, "holds ._S3rver_, which lamin dev's store reserves for its own files");
    }
    const length = Buffer.byteLength(segment);
    if (length > MAX_SEGMENT_BYTES) {
      throw new S3Failure(
        "KeyTooLongError",
        400,
        `a segment of the object key ${shown(key, 60)} has ${length} bytes; lamin dev stores each segment (between slashes) as a file name, so at most ${MAX_SEGMENT_BYTES}`,
      );
    }
  });
}

/** Refuse query parameters that s3rver turns into paths: the upload id and the part number. */
export function checkParams(params: readonly [string, string][]): void {
  for (const [name, value] of params) {
    if (name === "uploadId" && !/^[0-9a-f]{32}$/.test(value)) {
      throw new S3Failure(
        "NoSuchUpload",
        404,
        `there is no multipart upload with id ${shown(value)}: start one with CreateMultipartUpload`,
      );
    }
    if (name === "partNumber" && !(/^\d{1,5}$/.test(value) && +value >= 1 && +value <= 10000)) {
      throw new S3Failure(
        "InvalidArgument",
        400,
        `part number ${shown(value)} must be an integer from 1 to 10000`,
      );
    }
  }
}

/** Check the object `x-amz-copy-source` names, read as s3rver reads it (decodeURI). */
export function checkCopySource(header: string): void {
  let source: string;
  try {
    source = decodeURI(header);
  } catch {
    throw new S3Failure(
      "InvalidArgument",
      400,
      `x-amz-copy-source ${shown(header)} is not valid percent-encoding: write it as bucket/key, encoded`,
    );
  }
  const path = source.startsWith("/") ? source.slice(1) : source;
  const slash = path.indexOf("/");
  if (slash < 0) {
    throw new S3Failure("InvalidArgument", 400, "x-amz-copy-source must be bucket/key");
  }
  checkBucket(path.slice(0, slash));
  checkKey(path.slice(slash + 1));
}
