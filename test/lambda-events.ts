/**
 * Lambda events as AWS delivers them, for invoking handlers in tests and benchmarks: API Gateway
 * HTTP API (payload 2.0) and Function URL requests, and the context object.
 */
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";

export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "lamindb-api",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-central-1:123456789012:function:lamindb-api",
  memoryLimitInMB: "1024",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
  logGroupName: "/aws/lambda/lamindb-api",
  logStreamName: "2026/11/25/[$LATEST]0123456789abcdef0123456789abcdef",
  getRemainingTimeInMillis: () => 30_000,
} as unknown as LambdaContext;

export interface LambdaRequest {
  method: string;
  path: string;
  /** Exactly as the client sent it (still percent-encoded). */
  rawQueryString?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent as `authorization: Bearer ...`; null or absent: no header. */
  token?: string | null;
}

/** The query string as API Gateway decodes it into queryStringParameters (comma-joins repeats). */
function decodedParameters(raw: string): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

function bodyFields(req: LambdaRequest, headers: Record<string, string>) {
  if (req.body === undefined) return { isBase64Encoded: false };
  // both services base64-encode bodies that are not text
  const binary = typeof req.body !== "string";
  const bytes = typeof req.body === "string" ? Buffer.from(req.body) : Buffer.from(req.body);
  headers["content-length"] = String(bytes.length);
  return binary
    ? { body: bytes.toString("base64"), isBase64Encoded: true }
    : { body: req.body as string, isBase64Encoded: false };
}

/** An API Gateway HTTP API event, payload format 2.0, as a `$default` route delivers it. */
export function apiGatewayEvent(req: LambdaRequest): LambdaEvent {
  const domainName = "r4nd0m1d.execute-api.eu-central-1.amazonaws.com";
  const headers: Record<string, string> = {
    accept: "*/*",
    "accept-encoding": "gzip, deflate, br",
    host: domainName,
    "user-agent": "lamindb-serverless-test/1.0",
    "x-amzn-trace-id": "Root=1-6744f3c2-0123456789abcdef01234567",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...req.headers,
  };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  const rawQueryString = req.rawQueryString ?? "";
  const parameters = decodedParameters(rawQueryString);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: req.path,
    rawQueryString,
    headers,
    ...(parameters ? { queryStringParameters: parameters } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "r4nd0m1d",
      domainName,
      domainPrefix: "r4nd0m1d",
      http: {
        method: req.method,
        path: req.path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "lamindb-serverless-test/1.0",
      },
      requestId: "BUGfAj5nliAEJxQ=",
      routeKey: "$default",
      stage: "$default",
      time: "25/Nov/2026:03:38:10 +0000",
      timeEpoch: 1795577890000,
    },
    ...bodyFields(req, headers),
  } as unknown as LambdaEvent;
}

/** A Lambda Function URL event (auth type NONE): also payload 2.0, with its own context. */
export function functionUrlEvent(req: LambdaRequest): LambdaEvent {
  const urlId = "abcdefghijklmnopqrstuvwxyz012345";
  const domainName = `${urlId}.lambda-url.eu-central-1.on.aws`;
  const headers: Record<string, string> = {
    accept: "*/*",
    host: domainName,
    "user-agent": "lamindb-serverless-test/1.0",
    "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
    "x-amzn-tls-version": "TLSv1.3",
    "x-amzn-trace-id": "Root=1-6744f3c2-89abcdef0123456789abcdef",
    "x-forwarded-for": "198.51.100.23",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...req.headers,
  };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  const rawQueryString = req.rawQueryString ?? "";
  const parameters = decodedParameters(rawQueryString);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: req.path,
    rawQueryString,
    headers,
    ...(parameters ? { queryStringParameters: parameters } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: urlId,
      domainName,
      domainPrefix: urlId,
      http: {
        method: req.method,
        path: req.path,
        protocol: "HTTP/1.1",
        sourceIp: "198.51.100.23",
        userAgent: "lamindb-serverless-test/1.0",
      },
      requestId: "5b1c7a57-7b5e-4a8e-9d0e-0123456789ab",
      routeKey: "$default",
      stage: "$default",
      time: "25/Nov/2026:03:38:10 +0000",
      timeEpoch: 1795577890000,
    },
    ...bodyFields(req, headers),
  } as unknown as LambdaEvent;
}
