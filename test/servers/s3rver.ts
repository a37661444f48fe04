/**
 * s3rver, an S3 server in this process, for tests of S3 storage: its own temporary folder, a
 * free port, the given buckets. Emits S3 notification records as "event" (`server.on("event")`).
 * Its quirks (see toolchain notes): no If-Match, multipart ETags are a plain MD5, and paginated
 * listings need NODE_OPTIONS=--openssl-legacy-provider, so tests stay below 1000 keys a listing.
 */
import type { EventEmitter } from "node:events";
import { rmSync } from "node:fs";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { tempDir } from "../helpers.js";

/** s3rver checks signatures: these are the credentials it accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface S3rverHandle {
  endpoint: string;
  port: number;
  dir: string;
  /** @types/s3rver omits that the server is a Koa app, an EventEmitter. */
  server: S3rver & EventEmitter;
  client: S3Client;
  close(): Promise<void>;
}

/** A client for `endpoint` as S3Storage makes one (path style, checksums only when required). */
export function s3Client(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = S3RVER_CREDENTIALS,
): S3Client {
  return new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** A bucket CORS configuration that lets browsers of any origin use presigned URLs. */
export const OPEN_CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>`;

export async function startS3rver(opts: {
  buckets: string[];
  /** Bucket configurations (XML), e.g. {@link OPEN_CORS} for browsers. */
  configs?: string[];
}): Promise<S3rverHandle> {
  const dir = tempDir("lamin-s3rver-");
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir, // the default is a shared folder in the system temp folder
    configureBuckets: opts.buckets.map((name) => ({ name, configs: opts.configs ?? [] })),
  }) as S3rver & EventEmitter;
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = s3Client(endpoint);
  return {
    endpoint,
    port,
    dir,
    server,
    client,
    async close() {
      client.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
