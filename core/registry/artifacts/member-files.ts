/**
 * Loading a collection's members into one folder, the same in process and over HTTP: two members
 * with the same file name would overwrite each other, so that is refused before anything is
 * written, and a failure removes what the call wrote into the folder.
 */
import { mkdir, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { ValidationError } from "../../errors.js";
import type { Artifact } from "./artifacts.js";

type Member = Pick<Artifact, "uid" | "key" | "suffix">;

/** Load each member with `loadOne` (into `to`, else the cache); the collection, not each member, is the run's input. */
export async function loadMembers(
  members: Member[],
  to: string | undefined,
  loadOne: (uid: string, opts: { to?: string; isRunInput: false }) => Promise<{ path: string }>,
): Promise<{ uid: string; path: string }[]> {
  const dir = to ? resolve(to) : undefined;
  if (dir) {
    const names = new Map<string, string>();
    for (const m of members) {
      const name = (m.key ?? `${m.uid}${m.suffix}`).split("/").pop() as string;
      const other = names.get(name);
      if (other) {
        throw new ValidationError(
          `members ${other} and ${m.uid} are both named '${name}'`,
          "load without --to: the cache keeps each member under its key",
        );
      }
      names.set(name, m.uid);
    }
    await mkdir(dir, { recursive: true });
  }
  const files: { uid: string; path: string }[] = [];
  try {
    for (const m of members) {
      const { path } = await loadOne(m.uid, { ...(dir ? { to: dir } : {}), isRunInput: false });
      files.push({ uid: m.uid, path });
    }
  } catch (error) {
    if (dir) for (const f of files) await rm(f.path, { recursive: true, force: true });
    throw error;
  }
  return files;
}
