/**
 * AWS Signature Version 4 as S3 checks it, for `lamin dev`'s endpoint: the Authorization header
 * and presigned-URL forms, the payload hash they sign, and the chain of signatures of an
 * aws-chunked body. node:crypto only; verified against AWS's published examples (test/dev-sigv4).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { S3Failure, shown } from "./s3-error.js";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What of a request the signature covers, as it arrived. */
export interface RequestHead {
  method: string;
  /** The path of the request line, percent-encoded as sent. */
  path: string;
  /** The query of the request line as sent, without `?`. */
  query: string;
  /** Lower-case names; each header's values in arrival order (Node's `headersDistinct`). */
  headers: Record<string, string[] | undefined>;
}

/** What the body must be for the signature to hold. */
export type Payload =
  /** anything (UNSIGNED-PAYLOAD: presigned URLs, and clients over TLS) */
  | { kind: "unsigned" }
  /** bytes whose SHA-256 is `hex` */
  | { kind: "sha256"; hex: string }
  /** an aws-chunked body of `decodedLength` bytes; `chain` checks its chunks when they are signed */
  | { kind: "chunked"; decodedLength: number; trailer: boolean; chain?: ChunkChain };

export interface Verified {
  payload: Payload;
  /** The query parameters, decoded, in order (the presigned URL's own ones included). */
  params: [string, string][];
}

/** How far the time of a signed request may be from ours (S3's rule). */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may live: a week. */
const MAX_EXPIRES_S = 7 * 24 * 3600;
const ALGORITHM = "AWS4-HMAC-SHA256";
const HINT = "sign requests with the access key id and secret that lamin dev printed";

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export const EMPTY_SHA256 = sha256Hex("");

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** The key that signs requests of `date` (YYYYMMDD) in `region`. */
function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), "s3"), "aws4_request");
}

function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given.toLowerCase());
  return a.length === b.length && timingSafeEqual(a, b);
}

/** RFC 3986 percent-encoding as SigV4 wants it: all but A-Z a-z 0-9 - . _ ~ */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** One percent-encoded component, decoded; bad encoding is the client's error. */
export function decodeComponent(raw: string, where: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Failure(
      "InvalidURI",
      400,
      `${where} is not valid percent-encoded UTF-8: ${shown(raw)}; encode it with encodeURIComponent`,
    );
  }
}

/** The query's parameters, decoded, in order; a name without `=` has the value "". */
function parseQuery(raw: string): [string, string][] {
  return raw
    .split("&")
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf("=");
      const name = eq < 0 ? part : part.slice(0, eq);
      return [
        decodeComponent(name, "a query parameter"),
        decodeComponent(eq < 0 ? "" : part.slice(eq + 1), "a query parameter"),
      ];
    });
}

/** `name=value&...` encoded and sorted as SigV4 wants (and as forwarded upstream). */
export function canonicalQuery(params: readonly [string, string][]): string {
  return params
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join("&");
}

/**
 * The canonical URIs a client may have signed: S3 SDKs encode each segment strictly (what AWS
 * checks); a client that encoded less signed the path as sent. Both name the same object.
 */
function canonicalUris(path: string): string[] {
  const strict =
    path
      .split("/")
      .map((s) => uriEncode(decodeComponent(s, "the path")))
      .join("/") || "/";
  return strict === path ? [strict] : [strict, path];
}

function canonicalHeaders(head: RequestHead, names: readonly string[]): string {
  return names
    .map((name) => {
      const values = (head.headers[name] ?? []).map((v) => v.trim().replace(/\s+/g, " "));
      return `${name}:${values.join(",")}\n`;
    })
    .join("");
}

/** The one value of a header; a header sent twice where S3 wants one is malformed. */
function single(head: RequestHead, name: string): string | undefined {
  const values = head.headers[name];
  if (values && values.length > 1) {
    throw new S3Failure("InvalidArgument", 400, `the ${name} header was sent more than once`);
  }
  return values?.[0];
}

/** `YYYYMMDD'T'HHMMSS'Z'` → milliseconds, or undefined. */
function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

interface Scope {
  /** `date/region/s3/aws4_request` */
  text: string;
  key: Buffer;
}

function parseCredential(
  credential: string,
  amzDate: string,
  creds: Credentials,
  malformed: string,
): Scope {
  const parts = credential.split("/");
  const [id, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !region || service !== "s3" || terminator !== "aws4_request") {
    throw new S3Failure(
      malformed,
      400,
      `the credential ${shown(credential)} is not <access key id>/<date>/<region>/s3/aws4_request`,
    );
  }
  if (id !== creds.accessKeyId) {
    throw new S3Failure(
      "InvalidAccessKeyId",
      403,
      `the access key id ${shown(id ?? "")} is not this endpoint's: ${HINT}`,
    );
  }
  if (date !== amzDate.slice(0, 8)) {
    throw new S3Failure(
      malformed,
      400,
      `the credential's date ${date} is not the date of the request (${amzDate})`,
    );
  }
  return {
    text: parts.slice(1).join("/"),
    key: signingKey(creds.secretAccessKey, date, region),
  };
}

/**
 * The signed header names; the host must be one of them, and every `x-amz-` header sent must be:
 * an unsigned one (say `x-amz-copy-source`) would change what a signed request does.
 */
function signedNames(head: RequestHead, list: string, malformed: string): string[] {
  const names = list.split(";");
  if (!names.includes("host")) {
    throw new S3Failure(malformed, 400, "the signature must cover the host header");
  }
  const unsigned = Object.keys(head.headers).filter(
    (n) => n.startsWith("x-amz-") && !names.includes(n),
  );
  if (unsigned.length) {
    throw new S3Failure(
      "AccessDenied",
      403,
      `there were headers present in the request which were not signed: ${unsigned.join(", ")}`,
    );
  }
  return names;
}

function checkSignature(
  head: RequestHead,
  params: readonly [string, string][],
  names: readonly string[],
  payloadHash: string,
  amzDate: string,
  scope: Scope,
  signature: string,
  presigned: boolean,
): void {
  // a presigned URL's signature is the one parameter it does not sign
  const query = canonicalQuery(params.filter(([k]) => !(k === "X-Amz-Signature" && presigned)));
  const headers = canonicalHeaders(head, names);
  for (const uri of canonicalUris(head.path)) {
    const canonical = [head.method, uri, query, headers, names.join(";"), payloadHash].join("\n");
    const toSign = [ALGORITHM, amzDate, scope.text, sha256Hex(canonical)].join("\n");
    if (sameHex(hmac(scope.key, toSign).toString("hex"), signature)) return;
  }
  throw new S3Failure(
    "SignatureDoesNotMatch",
    403,
    `the request signature does not match: ${HINT}, and change nothing in a request once signed`,
  );
}

/** Check a request's signature against `creds`; what its body must then be. */
export function verifySigV4(head: RequestHead, creds: Credentials, now = Date.now()): Verified {
  const params = parseQuery(head.query);
  const authorization = single(head, "authorization");
  const presigned = params.some(([k]) => k === "X-Amz-Algorithm");
  if (authorization !== undefined && presigned) {
    throw new S3Failure(
      "InvalidArgument",
      400,
      "only one auth mechanism allowed: an Authorization header or a presigned URL, not both",
    );
  }
  if (authorization?.startsWith("AWS ") || params.some(([k]) => k === "Signature")) {
    throw new S3Failure(
      "InvalidRequest",
      400,
      "lamin dev accepts AWS Signature Version 4 only: configure the client for s3v4 signing",
    );
  }
  if (authorization !== undefined) {
    return { params, payload: verifyHeader(head, params, authorization, creds, now) };
  }
  if (presigned) return { params, payload: verifyPresigned(head, params, creds, now) };
  throw new S3Failure("AccessDenied", 403, `anonymous requests are refused: ${HINT}`);
}

function verifyHeader(
  head: RequestHead,
  params: readonly [string, string][],
  authorization: string,
  creds: Credentials,
  now: number,
): Payload {
  const malformed = "AuthorizationHeaderMalformed";
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    throw new S3Failure("InvalidArgument", 400, `unsupported Authorization type: ${HINT}`);
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const list = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !list || !signature) {
    throw new S3Failure(
      malformed,
      400,
      "the Authorization header needs Credential, SignedHeaders and Signature",
    );
  }
  const amzDate = single(head, "x-amz-date") ?? "";
  const time = parseAmzDate(amzDate);
  if (time === undefined) {
    throw new S3Failure(
      "AccessDenied",
      403,
      "AWS authentication requires a valid x-amz-date header (YYYYMMDDTHHMMSSZ)",
    );
  }
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Failure(
      "RequestTimeTooSkewed",
      403,
      `the request's time ${amzDate} is more than 15 minutes from the endpoint's (${new Date(now).toISOString()}): set the computer's clock`,
    );
  }
  const scope = parseCredential(credential, amzDate, creds, malformed);
  const names = signedNames(head, list, malformed);
  const payloadHash = single(head, "x-amz-content-sha256");
  if (!payloadHash) {
    throw new S3Failure(
      "InvalidRequest",
      400,
      "missing required header for this request: x-amz-content-sha256",
    );
  }
  checkSignature(head, params, names, payloadHash, amzDate, scope, signature, false);
  const chain = () => new ChunkChain(scope.key, amzDate, scope.text, signature);
  switch (payloadHash) {
    case "UNSIGNED-PAYLOAD":
      return { kind: "unsigned" };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
      return chunked(head, false, chain());
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
      return chunked(head, true, chain());
    case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
      return chunked(head, true);
  }
  return payloadDigest(payloadHash);
}

function payloadDigest(payloadHash: string): Payload {
  if (/^[0-9a-fA-F]{64}$/.test(payloadHash))
    return { kind: "sha256", hex: payloadHash.toLowerCase() };
  if (payloadHash.startsWith("STREAMING-")) {
    throw new S3Failure(
      "NotImplemented",
      501,
      `${payloadHash} bodies are not supported by lamin dev: sign with AWS4-HMAC-SHA256`,
    );
  }
  throw new S3Failure(
    "InvalidArgument",
    400,
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- mode, or the hex SHA-256 of the body",
  );
}

function chunked(head: RequestHead, trailer: boolean, chain?: ChunkChain): Payload {
  const length = single(head, "x-amz-decoded-content-length") ?? "";
  if (!/^\d{1,15}$/.test(length)) {
    throw new S3Failure(
      "MissingContentLength",
      411,
      "an aws-chunked body needs x-amz-decoded-content-length: the length of the data it carries",
    );
  }
  return { kind: "chunked", decodedLength: Number(length), trailer, ...(chain ? { chain } : {}) };
}

function verifyPresigned(
  head: RequestHead,
  params: readonly [string, string][],
  creds: Credentials,
  now: number,
): Payload {
  const malformed = "AuthorizationQueryParametersError";
  const get = (name: string) => params.find(([k]) => k === name)?.[1];
  if (get("X-Amz-Algorithm") !== ALGORITHM) {
    throw new S3Failure(malformed, 400, `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  }
  const credential = get("X-Amz-Credential");
  const amzDate = get("X-Amz-Date") ?? "";
  const expires = get("X-Amz-Expires") ?? "";
  const list = get("X-Amz-SignedHeaders");
  const signature = get("X-Amz-Signature");
  if (!credential || !list || !signature || !amzDate || !expires) {
    throw new S3Failure(
      malformed,
      400,
      "a presigned URL needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature",
    );
  }
  const time = parseAmzDate(amzDate);
  if (time === undefined) {
    throw new S3Failure(malformed, 400, "X-Amz-Date must be in the form YYYYMMDDTHHMMSSZ");
  }
  const seconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_EXPIRES_S)) {
    throw new S3Failure(malformed, 400, "X-Amz-Expires must be from 1 to 604800 seconds");
  }
  const scope = parseCredential(credential, amzDate, creds, malformed);
  const names = signedNames(head, list, malformed);
  const payloadHash = get("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD";
  if (payloadHash.startsWith("STREAMING-")) {
    throw new S3Failure("InvalidRequest", 400, "a presigned URL cannot carry an aws-chunked body");
  }
  checkSignature(head, params, names, payloadHash, amzDate, scope, signature, true);
  if (time - now > MAX_SKEW_MS) {
    throw new S3Failure(
      "AccessDenied",
      403,
      `the presigned URL is not valid yet (it is dated ${amzDate}): check the computer's clock`,
    );
  }
  const end = time + seconds * 1000;
  if (now > end) {
    throw new S3Failure(
      "AccessDenied",
      403,
      `Request has expired: the presigned URL expired at ${new Date(end).toISOString()}; ask for a new one`,
    );
  }
  return payloadHash === "UNSIGNED-PAYLOAD" ? { kind: "unsigned" } : payloadDigest(payloadHash);
}

/**
 * The signatures of an aws-chunked body: each chunk's signs its data and, through the previous
 * signature (the request's for the first), every chunk before it, so none can be swapped,
 * changed, dropped or added.
 */
export class ChunkChain {
  private previous: string;

  constructor(
    private readonly key: Buffer,
    private readonly amzDate: string,
    private readonly scope: string,
    seed: string,
  ) {
    this.previous = seed.toLowerCase();
  }

  /** Check the signature of a chunk whose data has SHA-256 `dataSha256` (hex). */
  chunk(dataSha256: string, signature: string): void {
    this.check(
      [
        "AWS4-HMAC-SHA256-PAYLOAD",
        this.amzDate,
        this.scope,
        this.previous,
        EMPTY_SHA256,
        dataSha256,
      ],
      signature,
      "a chunk of the body does not match its signature: the body was changed after signing",
    );
  }

  /** Check the signature of the trailing headers, given as `name:value\n` lines. */
  trailer(lines: string, signature: string): void {
    this.check(
      ["AWS4-HMAC-SHA256-TRAILER", this.amzDate, this.scope, this.previous, sha256Hex(lines)],
      signature,
      "the trailing headers of the body do not match their signature",
    );
  }

  private check(parts: string[], signature: string, message: string): void {
    const expected = hmac(this.key, parts.join("\n")).toString("hex");
    if (!sameHex(expected, signature)) throw new S3Failure("SignatureDoesNotMatch", 403, message);
    this.previous = expected;
  }
}
