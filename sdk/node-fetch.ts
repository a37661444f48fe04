/**
 * `fetch` over node:http/https. Node 20's global fetch loads undici and compiles its WASM HTTP
 * parser on first use, ~250 ms: most of a short CLI command that goes through a server. This
 * does the same requests with node's own HTTP stack and answers standard `Response` objects.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

const MAX_REDIRECTS = 5;

export async function nodeFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  let url = new URL(input instanceof Request ? input.url : input.toString());
  const method = (init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  const headers = Object.fromEntries(
    new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined)),
  );
  for (let redirects = 0; ; redirects++) {
    const res = await send(url, method, headers, init.body ?? null, init.signal ?? undefined);
    const location = res.headers.location;
    const redirect = res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location;
    if (
      !redirect ||
      init.redirect === "manual" ||
      !(method === "GET" || method === "HEAD") ||
      redirects >= MAX_REDIRECTS
    ) {
      return toResponse(res, method);
    }
    res.resume();
    const next = new URL(location, url);
    // as fetch does: credentials are for the origin they were given to, never for the one a
    // redirect names (a presigned storage URL must not receive the API's token)
    if (next.origin !== url.origin) {
      delete headers.authorization;
      delete headers.cookie;
    }
    url = next;
  }
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: RequestInit["body"] | null,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(signal ? { signal } : {}) }, resolve);
    req.on("error", reject);
    if (body === null || body === undefined) req.end();
    else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
    else if (body instanceof ReadableStream) {
      Readable.fromWeb(body as import("node:stream/web").ReadableStream)
        .on("error", reject)
        .pipe(req);
    } else {
      reject(new TypeError("nodeFetch sends strings, bytes and streams"));
    }
  });
}

function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 500;
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const empty = method === "HEAD" || status === 204 || status === 304;
  if (empty) res.resume();
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: res.statusMessage ?? "", headers });
}
