/**
 * `@google-cloud/storage` errors in the domain's terms: what went wrong with which bucket or
 * object, and what to do about it. JSON API errors carry the HTTP status in `code`; network
 * failures carry the system error's code (ECONNREFUSED, ...); credentials and signing failures
 * are plain errors, told apart by name or message.
 */
import { LaminError, NotFoundError, UnavailableError, ValidationError } from "../errors.js";
import { SigningUnavailableError, StaleObjectError } from "./types.js";

/**
 * A signed URL that could not be made: the credentials cannot sign (no service account key, no
 * signBlob permission, none at all); anything else as {@link gcsError} says.
 */
export function gcsSigningError(error: unknown, place: GcsPlace): Error {
  const e = (error ?? {}) as ApiErrorLike;
  const detail = e.message || e.name || String(error);
  if (
    e.name === "SigningError" ||
    /could not load the default credentials|client_email|signBlob/i.test(detail)
  ) {
    return new SigningUnavailableError(
      `a signed URL for ${where(place)} cannot be made: ${detail}`,
      "signing needs a service account: a key file in GOOGLE_APPLICATION_CREDENTIALS, or credentials allowed iam.serviceAccounts.signBlob",
      { cause: error },
    );
  }
  return gcsError(error, place);
}

interface ApiErrorLike {
  name?: string;
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number };
}

/** What an error is about: for messages. */
export interface GcsPlace {
  bucket: string;
  /** The full object name, or undefined for bucket-level calls. */
  objectName?: string;
  /** The endpoint URL, or undefined for Google Cloud Storage itself. */
  endpoint?: string;
}

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
]);

const ADC_HINT =
  "configure Application Default Credentials: `gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS=<service account key file>";

/** The HTTP status of a failed JSON API call, if it got that far. */
export function gcsStatus(error: unknown): number | undefined {
  const e = error as ApiErrorLike | undefined;
  if (typeof e?.code === "number") return e.code;
  if (typeof e?.code === "string" && /^\d{3}$/.test(e.code)) return Number(e.code);
  return e?.response?.status;
}

const messageOf = (error: unknown) => String((error as ApiErrorLike | undefined)?.message ?? "");

/** The bucket itself is missing (GCS says so in the message of its 404). */
export function isBucketMissing(error: unknown): boolean {
  return gcsStatus(error) === 404 && /bucket does not exist/i.test(messageOf(error));
}

/** The object (not the bucket) is missing. */
export function isObjectMissing(error: unknown): boolean {
  return gcsStatus(error) === 404 && !isBucketMissing(error);
}

function where(place: GcsPlace): string {
  return `gs://${place.bucket}${place.objectName ? `/${place.objectName}` : ""}`;
}

export function gcsEndpointName(endpoint: string | undefined): string {
  return endpoint ?? "Google Cloud Storage";
}

export function gcsBucketMissing(place: GcsPlace, cause?: unknown): NotFoundError {
  return new NotFoundError(
    `bucket ${place.bucket} does not exist (at ${gcsEndpointName(place.endpoint)})`,
    `create it first (e.g. \`gcloud storage buckets create gs://${place.bucket}\`), or check the bucket name and --endpoint-url`,
    { cause },
  );
}

/** The domain error for a failed call; errors that are ours already pass through. */
export function gcsError(error: unknown, place: GcsPlace): Error {
  if (error instanceof LaminError || error instanceof StaleObjectError) return error;
  const e = (error ?? {}) as ApiErrorLike;
  const status = gcsStatus(error);
  const detail = e.message || e.name || String(error);
  if (isBucketMissing(error)) return gcsBucketMissing(place, error);
  if (status === 404) {
    return new NotFoundError(`no object at ${where(place)}`, "it was deleted or never written", {
      cause: error,
    });
  }
  if (status === 412) return new StaleObjectError(place.objectName ?? "");
  if (/could not load the default credentials/i.test(detail)) {
    return new LaminError(
      "permission",
      `no Google Cloud credentials to reach ${where(place)}`,
      ADC_HINT,
      { cause: error },
    );
  }
  if (status === 401 || status === 403) {
    return new LaminError(
      "permission",
      `access to ${where(place)} was denied (${status}): ${detail}`,
      `check the credentials (${ADC_HINT.replace(/^configure /, "")}) and the bucket's IAM permissions`,
      { cause: error },
    );
  }
  const code = typeof e.code === "string" ? e.code : "";
  const reason = e.errors?.[0]?.reason ?? "";
  if (
    NETWORK.has(code) ||
    NETWORK.has(reason.toUpperCase()) ||
    status === 429 ||
    (status !== undefined && status >= 500)
  ) {
    return new UnavailableError(
      `Google Cloud Storage${place.endpoint ? ` at ${place.endpoint}` : ""} is unavailable (${code || status || reason}): ${detail}`,
      "check the endpoint URL and the network, then try again",
      { cause: error },
    );
  }
  if (status === 400) {
    return new ValidationError(
      `Google Cloud Storage refused ${where(place)}: ${detail}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  return error instanceof Error ? error : new Error(detail);
}
