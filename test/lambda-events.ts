/**
 * Lambda events as AWS delivers them, for invoking handlers in tests and benchmarks: API Gateway
 * HTTP API (payload 2.0) and Function URL requests, the context object, and SST's links.
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

/** Where a payload 2.0 event comes from: what differs between API Gateway and a Function URL. */
interface EventSource {
  apiId: string;
  domainName: string;
  accountId: string;
  sourceIp: string;
  requestId: string;
  /** Headers the service adds. */
  headers: Record<string, string>;
}

/** A payload 2.0 event (HTTP API and Function URL share the format), from `source`. */
function payload2Event(req: LambdaRequest, source: EventSource): LambdaEvent {
  const headers: Record<string, string> = {
    accept: "*/*",
    host: source.domainName,
    "user-agent": "lamindb-serverless-test/1.0",
    ...source.headers,
    "x-forwarded-for": source.sourceIp,
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
      accountId: source.accountId,
      apiId: source.apiId,
      domainName: source.domainName,
      domainPrefix: source.apiId,
      http: {
        method: req.method,
        path: req.path,
        protocol: "HTTP/1.1",
        sourceIp: source.sourceIp,
        userAgent: "lamindb-serverless-test/1.0",
      },
      requestId: source.requestId,
      routeKey: "$default",
      stage: "$default",
      time: "25/Nov/2026:03:38:10 +0000",
      timeEpoch: 1795577890000,
    },
    ...bodyFields(req, headers),
  } as unknown as LambdaEvent;
}

/** An API Gateway HTTP API event, payload format 2.0, as a `$default` route delivers it. */
export function apiGatewayEvent(req: LambdaRequest): LambdaEvent {
  return payload2Event(req, {
    apiId: "r4nd0m1d",
    domainName: "r4nd0m1d.execute-api.eu-central-1.amazonaws.com",
    accountId: "123456789012",
    sourceIp: "203.0.113.7",
    requestId: "BUGfAj5nliAEJxQ=",
    headers: {
      "accept-encoding": "gzip, deflate, br",
      "x-amzn-trace-id": "Root=1-6744f3c2-0123456789abcdef01234567",
    },
  });
}

/** A Lambda Function URL event (auth type NONE): also payload 2.0, with its own context. */
export function functionUrlEvent(req: LambdaRequest): LambdaEvent {
  const urlId = "abcdefghijklmnopqrstuvwxyz012345";
  return payload2Event(req, {
    apiId: urlId,
    domainName: `${urlId}.lambda-url.eu-central-1.on.aws`,
    accountId: "anonymous",
    sourceIp: "198.51.100.23",
    requestId: "5b1c7a57-7b5e-4a8e-9d0e-0123456789ab",
    headers: {
      "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
      "x-amzn-tls-version": "TLSv1.3",
      "x-amzn-trace-id": "Root=1-6744f3c2-89abcdef0123456789abcdef",
    },
  });
}

/**
 * SST's links of a deployed stage, as Lambda (or `sst shell`) passes them: `SST_RESOURCE_<Name>`
 * JSON. The names are those of sst.config.ts; optional secrets carry SST's "none" placeholder.
 */
export function stageLinks(opts: {
  stage: string;
  databaseUrl: string;
  bucket: string;
  reconcileWorker?: string;
}): Record<string, string> {
  const secret = (value: string) => JSON.stringify({ type: "sst.sst.Secret", value });
  return {
    SST_RESOURCE_App: JSON.stringify({ name: "lamindb", stage: opts.stage }),
    SST_RESOURCE_DatabaseUrl: secret(opts.databaseUrl),
    SST_RESOURCE_NeonApiKey: secret("none"),
    SST_RESOURCE_NeonProjectId: secret("none"),
    SST_RESOURCE_Storage: JSON.stringify({ type: "sst.aws.Bucket", name: opts.bucket }),
    ...(opts.reconcileWorker
      ? {
          SST_RESOURCE_ReconcileWorker: JSON.stringify({
            type: "sst.aws.Function",
            name: opts.reconcileWorker,
          }),
        }
      : {}),
  };
}
