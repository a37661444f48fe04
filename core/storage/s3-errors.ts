/**
 * AWS SDK errors in the domain's terms: what went wrong with which bucket or object, and what to
 * do about it. The SDK names S3's error code in `name` when the response had a body; HEAD
 * requests have none, so the HTTP status decides there.
 */
import { LaminError, NotFoundError, UnavailableError } from "../errors.js";
import { StaleObjectError } from "./types.js";

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  errors?: { code?: string }[];
}

/** What an error is about: for messages. */
export interface S3Place {
  bucket: string;
  /** The full object key, or undefined for bucket-level calls. */
  objectKey?: string;
  /** The endpoint URL, or undefined for AWS itself. */
  endpoint?: string;
}

const DENIED = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "CredentialsProviderError",
]);

/** No connection to the endpoint at all: nothing listens, no such host, no route. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

const NETWORK = new Set([
  ...UNREACHABLE,
  "ECONNRESET",
  "EPIPE",
  "TimeoutError",
  "RequestTimeout",
  "SlowDown",
  "ServiceUnavailable",
  "InternalError",
]);

export function httpStatus(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** The object (not the bucket) is missing. */
export function isNotFound(error: unknown): boolean {
  const name = (error as SdkError | undefined)?.name;
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || httpStatus(error) === 404;
}

function where(place: S3Place): string {
  return `s3://${place.bucket}${place.objectKey ? `/${place.objectKey}` : ""}`;
}

export function endpointName(endpoint: string | undefined): string {
  return endpoint ?? "AWS S3";
}

export function bucketMissing(place: S3Place, cause?: unknown): NotFoundError {
  return new NotFoundError(
    `bucket ${place.bucket} does not exist (at ${endpointName(place.endpoint)})`,
    `create it first (e.g. \`aws s3 mb s3://${place.bucket}\`), or check the bucket name and --endpoint-url`,
    { cause },
  );
}

/** The domain error for a failed SDK call; errors that are ours already pass through. */
export function s3Error(error: unknown, place: S3Place): Error {
  if (error instanceof LaminError || error instanceof StaleObjectError) return error;
  const e = (error ?? {}) as SdkError;
  const name = e.name ?? "";
  const status = httpStatus(error);
  const detail = e.message || name || String(error);
  if (name === "NoSuchBucket") return bucketMissing(place, error);
  if (isNotFound(error)) {
    return new NotFoundError(`no object at ${where(place)}`, "it was deleted or never written", {
      cause: error,
    });
  }
  if (name === "PreconditionFailed" || status === 412) {
    return new StaleObjectError(place.objectKey ?? "");
  }
  if (DENIED.has(name) || status === 403) {
    return new LaminError(
      "permission",
      `access to ${where(place)} was denied (${name || status}): ${detail}`,
      name === "CredentialsProviderError"
        ? "configure AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
        : "check the AWS credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE), that they are meant for this endpoint, and the bucket policy",
      { cause: error },
    );
  }
  const code = e.code ?? e.errors?.[0]?.code ?? "";
  if (UNREACHABLE.has(code)) {
    const endpoint = place.endpoint ? `the S3 endpoint ${place.endpoint}` : "AWS S3";
    return new UnavailableError(
      `${endpoint} is unreachable (${code}): ${detail}`,
      place.endpoint
        ? "check that the S3 server runs and that the instance's endpoint URL is right (lamin info shows it), then try again"
        : "check the network (and AWS_REGION), then try again",
      { cause: error },
    );
  }
  if (NETWORK.has(code) || NETWORK.has(name) || (status !== undefined && status >= 500)) {
    return new UnavailableError(
      `S3 at ${endpointName(place.endpoint)} is unavailable (${code || name || status}): ${detail}`,
      "check the endpoint URL and the network, then try again",
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(detail);
}
