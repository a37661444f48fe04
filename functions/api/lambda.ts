/**
 * The API on AWS Lambda (API Gateway v2 or a Function URL). Configuration comes from the
 * environment; the instance and its connections are made once per container and reused by
 * warm invocations.
 *
 * - DATABASE_URL: the instance's Postgres database (already initialised)
 * - LAMIN_INSTANCE: the slug `owner/name` of the instance
 * - LAMIN_STORAGE_ROOT: its default storage root
 * - LAMIN_API_TOKEN_SHA256: SHA-256 (hex) of the access token
 */

import type { LambdaContext } from "hono/aws-lambda";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import { tokenMatches } from "../../core/auth.js";
import { openPostgres } from "../../core/db/postgres.js";
import { attachInstance, type Instance } from "../../core/instance.js";
import { openStorage } from "../../core/storage/open.js";
import { instanceIdFromSlug, instanceUidFromId } from "../../core/uid.js";
import { createApp } from "./app.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: the API function needs it (see functions/api/lambda.ts)`);
  return value;
}

async function openFromEnvironment(): Promise<Instance> {
  const slug = required("LAMIN_INSTANCE");
  const [owner = "", name = ""] = slug.split("/");
  const id = instanceIdFromSlug(slug);
  const url = required("DATABASE_URL");
  const storageRoot = required("LAMIN_STORAGE_ROOT");
  const settings = {
    owner,
    name,
    id,
    uid: instanceUidFromId(id),
    storageRoot,
    db: { kind: "postgres" as const, url },
    createdAt: "",
  };
  return attachInstance(settings, await openPostgres(url, { max: 1 }), openStorage(storageRoot));
}

let app: Promise<ReturnType<typeof handle>> | undefined;

function build(): Promise<ReturnType<typeof handle>> {
  const instance = openFromEnvironment();
  // a failed start must not stick: the next invocation tries again
  instance.catch(() => {
    app = undefined;
  });
  return Promise.resolve(
    handle(
      createApp({
        instance: () => instance,
        // read per request: a missing digest answers 500 problem+json instead of failing the
        // invocation (a thrown handler is a bare 502 from API Gateway)
        authorize: (token) =>
          token !== undefined && tokenMatches(token, required("LAMIN_API_TOKEN_SHA256")),
      }),
    ),
  );
}

export async function handler(event: LambdaEvent, context: LambdaContext) {
  app ??= build();
  return (await app)(event, context);
}
