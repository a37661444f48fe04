/**
 * The instance a Lambda function serves, from its environment; opened once per container and
 * reused by warm invocations. A failed start does not stick: the next invocation tries again.
 *
 * - DATABASE_URL: the instance's Postgres database (already initialised)
 * - LAMIN_INSTANCE: the slug `owner/name` of the instance
 * - LAMIN_STORAGE_ROOT: its default storage root (`s3://bucket/prefix`)
 * - LAMIN_STORAGE_ENDPOINT: optional, for S3-compatible storage
 */
import { openPostgres } from "../../core/db/postgres.js";
import { attachInstance, type Instance } from "../../core/instance.js";
import { openStorage } from "../../core/storage/open.js";
import { instanceIdFromSlug, instanceUidFromId } from "../../core/uid.js";
import { once } from "./once.js";

export function requiredEnv(name: string, purpose = "this function"): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: ${purpose} needs it`);
  return value;
}

async function openFromEnvironment(): Promise<Instance> {
  const slug = requiredEnv("LAMIN_INSTANCE");
  const [owner = "", name = ""] = slug.split("/");
  const id = instanceIdFromSlug(slug);
  const url = requiredEnv("DATABASE_URL");
  const storageRoot = requiredEnv("LAMIN_STORAGE_ROOT");
  const endpoint = process.env.LAMIN_STORAGE_ENDPOINT;
  const settings = {
    owner,
    name,
    id,
    uid: instanceUidFromId(id),
    storageRoot,
    db: { kind: "postgres" as const, url },
    createdAt: "",
  };
  const storage = openStorage(storageRoot, endpoint ? { endpoint } : {});
  return attachInstance(settings, await openPostgres(url, { max: 4 }), storage);
}

export const instanceFromEnvironment = once(openFromEnvironment);
