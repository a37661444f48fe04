/**
 * `lamin dev`'s S3 endpoint: the server on the public port. It lets through only requests signed
 * with the dev credentials (AWS SigV4: Authorization header or presigned URL), naming buckets and
 * keys that stay inside the store, with bodies that arrived whole and match what was signed; and
 * forwards them to s3rver, which listens on a socket in a private folder that no one else can
 * open. Anything else gets S3's XML error and reaches nothing.
 *
 * Bodies are received into a file before s3rver sees a byte of them: an upload cut short, or one
 * whose bytes differ from the signed hash, never becomes an object (and so never an artifact).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from "node:http";
import { join } from "node:path";
import { type Duplex, PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ValidationError } from "../../core/errors.js";
import { mapLimit } from "../../core/util/concurrency.js";
import { AwsChunkedDecoder } from "./aws-chunked.js";
import { deleteResultXml, parseDeleteXml } from "./multi-delete.js";
import { errorXml, S3Failure } from "./s3-error.js";
import { checkCopySource, checkKey, checkParams, parseTarget, targetPath } from "./s3-names.js";
import {
  type Credentials,
  canonicalQuery,
  EMPTY_SHA256,
  type Payload,
  type RequestHead,
  verifySigV4,
} from "./sigv4.js";

export interface FrontOptions {
  host: string;
  port: number;
  /** The socket s3rver listens on. */
  upstream: string;
  credentials: Credentials;
  /** Where bodies wait until complete and checked. */
  spoolDir: string;
  /** Failures that are the endpoint's, not the client's (they are bugs). */
  onError: (message: string) => void;
}

export interface S3Front {
  url: string;
  close(): Promise<void>;
}

/** Node's default; more is refused with S3's RequestHeaderSectionTooLarge. */
const MAX_HEADER_BYTES = 16 * 1024;
/** A DeleteObjects document: 1,000 keys of 1,024 bytes, with room for the XML. */
const MAX_DELETE_XML = 2 * 1024 * 1024;
/** Request headers s3rver is not given: they are about this hop, or checked here. */
const NOT_FORWARDED = new Set([
  "authorization",
  "connection",
  "content-length",
  "expect",
  "host",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "x-amz-content-sha256",
  "x-amz-date",
  "x-amz-decoded-content-length",
  "x-amz-security-token",
  "x-amz-trailer",
]);
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding"];
/** Errors of a client gone away: nothing to answer, its socket is simply closed. */
const CLIENT_GONE = new Set(["ECONNRESET", "EPIPE", "ERR_STREAM_PREMATURE_CLOSE"]);

export async function startS3Front(opts: FrontOptions): Promise<S3Front> {
  await mkdir(opts.spoolDir, { recursive: true });
  // s3rver is always told the endpoint's own host, never the client's: a Host header of the
  // form <bucket>.s3.<domain> would make it read the bucket name from there, unchecked
  const own: Front = { ...opts, upstreamHost: "" };
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    if (answerCors(req, res)) return;
    void handle(req, res, own, false);
  });
  // a client that waits for 100-continue is refused before it sends the body
  server.on("checkContinue", (req, res) => {
    void handle(req, res, own, true);
  });
  server.on("clientError", refuseUnparsable);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ValidationError(
              `port ${opts.port} is in use`,
              "pass another --s3-port (0 picks a free one)",
            )
          : error,
      ),
    );
    server.listen(opts.port, opts.host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`;
  own.upstreamHost = new URL(url).host;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * CORS as the deployed bucket has it (infra/storage.ts): browsers (the web UI) use presigned
 * URLs from any origin. A preflight is answered here, unsigned (it carries no credential and
 * changes nothing); every other request is still checked; answers to a browser's request let it
 * read them (and the ETag, for multipart). True when the request was a preflight, answered.
 */
function answerCors(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.origin === undefined) return false;
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-expose-headers", "ETag");
  const method = req.headers["access-control-request-method"];
  if (req.method !== "OPTIONS" || method === undefined) return false;
  res.writeHead(204, {
    "access-control-allow-methods": "GET, PUT, HEAD",
    "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
    "access-control-max-age": "3600",
  });
  res.end();
  return true;
}

/** Requests Node cannot parse (headers too large, bad framing) still get S3's XML. */
function refuseUnparsable(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const failure =
    error.code === "HPE_HEADER_OVERFLOW"
      ? new S3Failure(
          "RequestHeaderSectionTooLarge",
          400,
          `the request's headers exceed ${MAX_HEADER_BYTES / 1024} KiB: send fewer or shorter headers`,
        )
      : new S3Failure("InvalidRequest", 400, `the request is not valid HTTP/1.1 (${error.code})`);
  const body = errorXml(failure);
  socket.end(
    `HTTP/1.1 ${failure.status} Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The options, and the endpoint's own `host:port`: the Host that s3rver is sent. */
type Front = FrontOptions & { upstreamHost: string };

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: Front,
  expectsContinue: boolean,
): Promise<void> {
  let spooled: Spooled | undefined;
  try {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const head: RequestHead = {
      method: req.method ?? "GET",
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? "" : url.slice(q + 1),
      headers: req.headersDistinct,
    };
    const { payload, params } = verifySigV4(head, opts.credentials);
    const target = parseTarget(head.path);
    checkParams(params);
    const copySource = req.headersDistinct["x-amz-copy-source"];
    if (copySource) copySource.forEach(checkCopySource);
    const bucketPost = head.method === "POST" && target.bucket && target.key === undefined;
    const deletesMany = bucketPost && params.some(([k]) => k === "delete");
    if (bucketPost && !deletesMany) {
      throw new S3Failure(
        "NotImplemented",
        501,
        "browser-form uploads (POST to a bucket) are not supported by lamin dev: PUT the object, or PUT to a presigned URL",
      );
    }
    if (expectsContinue) res.writeContinue();
    spooled = await receive(req, payload, opts.spoolDir);
    if (deletesMany) {
      await deleteMany(res, opts, target.bucket as string, spooled);
      return;
    }
    // the query s3rver sees: the operation's parameters, none of the signature's; the
    // response-* overrides of a signed GET (a presigned download) are applied here, since
    // s3rver refuses them on the unsigned request it gets
    const query = canonicalQuery(
      params.filter(([k]) => !/^x-amz-/i.test(k) && !RESPONSE_OVERRIDES.has(k)),
    );
    const overrides =
      head.method === "GET"
        ? Object.fromEntries(
            params
              // printable ASCII only: a header value never ends the header
              .filter(([k, v]) => RESPONSE_OVERRIDES.has(k) && /^[\x20-\x7e]*$/.test(v))
              .map(([k, v]) => [k.slice("response-".length), v]),
          )
        : {};
    await forward(res, opts, {
      method: head.method,
      path: `${targetPath(target)}${query ? `?${query}` : ""}`,
      headers: forwardedHeaders(req, opts.upstreamHost, spooled?.size ?? 0),
      ...(spooled ? { body: spooled.file } : {}),
      overrides,
    });
  } catch (error) {
    respondWithError(req, res, error, opts, expectsContinue);
  } finally {
    if (spooled) await rm(spooled.file, { force: true });
  }
}

interface Spooled {
  file: string;
  size: number;
}

/**
 * Receive the body into a file in `spoolDir`, decoded (aws-chunked) and checked (the signed
 * SHA-256, the declared lengths); undefined when there is none. A body cut short throws.
 */
async function receive(
  req: IncomingMessage,
  payload: Payload,
  spoolDir: string,
): Promise<Spooled | undefined> {
  const declared = req.headers["content-length"];
  const hasBody =
    payload.kind === "chunked" ||
    req.headers["transfer-encoding"] !== undefined ||
    (declared !== undefined && declared !== "0");
  if (!hasBody) {
    if (payload.kind === "sha256" && payload.hex !== EMPTY_SHA256) throw hashMismatch();
    return undefined;
  }
  const file = join(spoolDir, randomBytes(12).toString("hex"));
  const hash = payload.kind === "sha256" ? createHash("sha256") : undefined;
  let size = 0;
  try {
    await pipeline(
      bodyOf(req),
      payload.kind === "chunked" ? new AwsChunkedDecoder(payload) : passThrough,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash?.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(file),
    );
    if (hash && hash.digest("hex") !== (payload as { hex: string }).hex) throw hashMismatch();
    return { file, size };
  } catch (error) {
    await rm(file, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC") {
      throw new S3Failure(
        "InsufficientStorage",
        507,
        "the disk of lamin dev's data folder is full; nothing was stored: free space and send it again",
      );
    }
    if (!code || !CLIENT_GONE.has(code)) throw error;
    throw new S3Failure(
      "IncompleteBody",
      400,
      "the connection closed before the whole body arrived; nothing was stored: send it again",
    );
  }
}

async function* passThrough(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* chunks;
}

/**
 * The request's body as a stream of its own: refusing a body midway must not destroy the request
 * (and the socket the refusal goes out on); a client gone away ends it with an error.
 */
function bodyOf(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  req.on("error", (error) => body.destroy(error));
  req.on("close", () => {
    if (!req.complete) body.destroy(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
  });
  return req.pipe(body);
}

const hashMismatch = () =>
  new S3Failure(
    "XAmzContentSHA256Mismatch",
    400,
    "the body's SHA-256 is not the x-amz-content-sha256 the request signed: it was changed or cut short; nothing was stored",
  );

/** The request's headers for s3rver: this hop's and the signature's left out, the body's size. */
function forwardedHeaders(req: IncomingMessage, host: string, size: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values || NOT_FORWARDED.has(name)) continue;
    if (name === "content-encoding") {
      // aws-chunked was decoded here; other codings (gzip) belong to the object
      const rest = values
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter((v) => v && v !== "aws-chunked");
      if (rest.length) out[name] = rest.join(",");
      continue;
    }
    out[name] = values.length === 1 ? values[0] : values;
  }
  out.host = host;
  out["content-length"] = String(size);
  return out;
}

interface Upstream {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  /** Headers of the answer set by the signed request (`response-content-disposition`, ...). */
  overrides?: Record<string, string>;
}

/** S3's response-header overrides of a GET (GetObject's `Response*` parameters). */
const RESPONSE_OVERRIDES = new Set([
  "response-content-type",
  "response-content-disposition",
  "response-content-language",
  "response-content-encoding",
  "response-cache-control",
  "response-expires",
]);

/** Send a request to s3rver and its answer to `res`. */
function forward(res: ServerResponse, opts: FrontOptions, up: Upstream): Promise<void> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { socketPath: opts.upstream, method: up.method, path: up.path, headers: up.headers },
      (answer) => {
        const headers = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete headers[name];
        const ok = (answer.statusCode ?? 500) < 300;
        if (ok) Object.assign(headers, up.overrides);
        res.writeHead(answer.statusCode ?? 502, headers);
        pipeline(answer, res).then(resolve, reject);
      },
    );
    outgoing.on("error", (error) => reject(unreachable(error)));
    if (up.body) pipeline(createReadStream(up.body), outgoing).catch(reject);
    else outgoing.end();
  });
}

const unreachable = (error: Error) =>
  new S3Failure(
    "ServiceUnavailable",
    503,
    `lamin dev's object store did not answer (${error.message}); restart lamin dev`,
  );

/** One request to s3rver, its status and body, for the front's own use. */
function ask(opts: FrontOptions, up: Upstream): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { socketPath: opts.upstream, method: up.method, path: up.path, headers: up.headers },
      (answer) => {
        let body = "";
        answer.setEncoding("utf8");
        answer.on("data", (d: string) => {
          body += d;
        });
        answer.on("end", () => resolve({ status: answer.statusCode ?? 502, body }));
        answer.on("error", reject);
      },
    );
    outgoing.on("error", (error) => reject(unreachable(error)));
    outgoing.end();
  });
}

/** DeleteObjects: every key checked before any is deleted, then one DELETE each (one event each). */
async function deleteMany(
  res: ServerResponse,
  opts: Front,
  bucket: string,
  spooled: Spooled | undefined,
): Promise<void> {
  if (!spooled || spooled.size > MAX_DELETE_XML) {
    throw new S3Failure(
      "MalformedXML",
      400,
      `a DeleteObjects request needs a <Delete> document of at most ${MAX_DELETE_XML} bytes`,
    );
  }
  const { keys, quiet } = parseDeleteXml(await readFile(spooled.file, "utf8"));
  keys.forEach(checkKey);
  const outcomes = await mapLimit(keys, 8, async (key) => {
    const answer = await ask(opts, {
      method: "DELETE",
      path: targetPath({ bucket, key }),
      headers: { host: opts.upstreamHost, "content-length": "0" },
    });
    if (answer.status < 300) return { key };
    const code = /<Code>([^<]*)<\/Code>/.exec(answer.body)?.[1] ?? "InternalError";
    const message = /<Message>([^<]*)<\/Message>/.exec(answer.body)?.[1] ?? "not deleted";
    return { key, error: new S3Failure(code, answer.status, message) };
  });
  const xml = deleteResultXml(outcomes, quiet);
  res.writeHead(200, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(xml),
  });
  res.end(xml);
}

function respondWithError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  opts: FrontOptions,
  expectsContinue: boolean,
): void {
  let failure: S3Failure;
  if (error instanceof S3Failure) failure = error;
  else {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code && CLIENT_GONE.has(code)) {
      res.destroy();
      return;
    }
    opts.onError(`S3 endpoint: ${req.method} ${req.url}: ${(error as Error)?.message ?? error}`);
    failure = new S3Failure("InternalError", 500, "lamin dev's S3 endpoint failed; see its output");
  }
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = errorXml(failure, req.url?.split("?")[0]);
  res.writeHead(failure.status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    // a client still waiting for 100-continue never sends the body: nothing to read after this
    ...(expectsContinue && !req.complete ? { connection: "close" } : {}),
  });
  res.end(req.method === "HEAD" ? undefined : body);
  // the rest of a refused body is read and dropped, so the client gets to read the answer
  if (!req.complete) req.resume();
}
