/**
 * `load --to DIR` writes `DIR/<name of the key>`: a file the user keeps there under that name
 * (a newer version they loaded before, their own edit) is never replaced without being asked.
 * The cache folder is lamindb's own and is not checked.
 */
import { stat } from "node:fs/promises";
import { ConflictError } from "../../errors.js";
import { hashFile, hashFolder } from "../../hash.js";

export interface LoadTarget {
  uid: string;
  version: string;
  isLatest: boolean;
  hash: string | null;
  isFolder: boolean;
}

/** Throws a ConflictError when `dest` exists and holds other content than `artifact`. */
export async function assertLoadTarget(
  dest: string,
  artifact: LoadTarget,
  overwrite: boolean,
): Promise<void> {
  if (overwrite) return;
  const found = await stat(dest).catch(() => undefined);
  if (!found) return;
  if (found.isDirectory() === artifact.isFolder) {
    const held = artifact.isFolder ? await hashFolder(dest) : await hashFile(dest);
    if (held.hash === artifact.hash) return; // the same bytes: loading again changes nothing
  }
  const which = artifact.isLatest ? "" : ` (an older version, ${artifact.version})`;
  throw new ConflictError(
    `${dest} exists and holds other content than ${artifact.uid}${which}: loading would replace it`,
    "load into another folder (--to DIR), move the file away, or pass --force to replace it",
  );
}
