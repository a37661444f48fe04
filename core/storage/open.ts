/** The backend for a storage root: a local folder now; `s3://` and `gs://` join here. */
import { ValidationError } from "../errors.js";
import { LocalStorage } from "./local.js";
import type { StorageBackend } from "./types.js";

export function openStorage(root: string): StorageBackend {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(root)?.[1]?.toLowerCase();
  if (!scheme || scheme === "file") return new LocalStorage(scheme ? new URL(root).pathname : root);
  throw new ValidationError(`storage '${root}' is not supported yet`, "use a local folder");
}
