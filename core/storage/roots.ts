/**
 * Storage roots and lamindb's own folders as places on this machine (links resolved, so two
 * spellings of one folder compare equal):
 * - what `save` must not copy into storage: the instance's root, a folder holding it, anything
 *   in its `.lamindb/`, its embedded database (the instance would be copied into itself);
 * - where `init` must not put a new root: holding or inside another instance's storage or
 *   embedded database (found in the settings, or by the marker of an instance this machine does
 *   not know), or holding the settings folder (API tokens, embedded databases).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { ConflictError, ValidationError } from "../errors.js";
import type { InstanceSettings } from "../settings.js";
import { isWithin, realPathOf } from "../util/paths.js";
import { STORAGE_MARKER_KEY } from "./types.js";

const isLocal = (root: string) => !root.includes("://");

/** The folders of an instance on this machine: its local root, its embedded database. */
function placesOf(settings: InstanceSettings): { root?: string; dataDir?: string } {
  return {
    ...(isLocal(settings.storageRoot) ? { root: settings.storageRoot } : {}),
    ...(settings.db.kind === "pglite" ? { dataDir: settings.db.dataDir } : {}),
  };
}

const RECONCILE_HINT =
  "files already in the storage folder are registered where they are by `lamin reconcile` (or `lamin serve --watch`); save a folder outside it instead";

/** Refuse (ValidationError) to save `path` into the instance of `settings` (see above). */
export async function assertSavable(path: string, settings: InstanceSettings): Promise<void> {
  const real = await realPathOf(path);
  const { root, dataDir } = placesOf(settings);
  const cannot = `cannot save ${path}`;
  if (root !== undefined) {
    const realRoot = await realPathOf(root);
    if (real === realRoot) {
      throw new ValidationError(
        `${cannot}: it is the storage root of ${settings.name}; saving it would copy the instance, its database included, into itself`,
        RECONCILE_HINT,
      );
    }
    if (isWithin(realRoot, real)) {
      throw new ValidationError(
        `${cannot}: it contains the storage root of ${settings.name} (${root}); saving it would copy the instance into itself`,
        RECONCILE_HINT,
      );
    }
    if (isWithin(real, join(realRoot, ".lamindb"))) {
      throw new ValidationError(
        `${cannot}: it is inside ${join(root, ".lamindb")}, which lamindb manages`,
        "what lamindb keeps there is registered already (`lamin ls`, `lamin load`); other files in the storage folder are registered by `lamin reconcile`",
      );
    }
  }
  if (dataDir !== undefined) {
    const realData = await realPathOf(dataDir);
    if (isWithin(realData, real) || isWithin(real, realData)) {
      throw new ValidationError(
        `${cannot}: it holds or is inside the database of ${settings.name} (${dataDir})`,
        "save a folder that does not hold the instance's database; `lamin reconcile` registers files already in storage",
      );
    }
  }
}

/**
 * Refuse (ConflictError) a new local storage root that holds or lies inside the storage of
 * another instance (`known`, or one found by its marker in a folder above), or that holds the
 * settings folder `home`. Reads only: nothing is created.
 */
export async function assertRootFree(
  root: string,
  known: readonly InstanceSettings[],
  home: string,
): Promise<void> {
  const real = await realPathOf(root);
  const hint = "choose a folder that neither holds nor lies inside another instance's storage";
  for (const other of known) {
    const slug = `${other.owner}/${other.name}`;
    const otherHint = `${hint}, or work in that instance: lamin connect ${other.name}`;
    for (const place of Object.values(placesOf(other))) {
      if (!existsSync(place)) continue; // removed since: it holds nothing any more
      const realPlace = await realPathOf(place);
      if (realPlace === real) {
        throw new ConflictError(`${root} is already managed by ${slug}`, otherHint);
      }
      if (isWithin(realPlace, real)) {
        throw new ConflictError(`${root} holds the storage of ${slug} (${place})`, otherHint);
      }
      if (isWithin(real, realPlace)) {
        throw new ConflictError(`${root} is inside the storage of ${slug} (${place})`, otherHint);
      }
    }
  }
  if (real.split(sep).includes(".lamindb")) {
    throw new ConflictError(
      `${root} is inside the storage of an instance (a .lamindb folder)`,
      hint,
    );
  }
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const marker = join(dir, STORAGE_MARKER_KEY);
    if (existsSync(marker)) {
      const text = (() => {
        try {
          return readFileSync(marker, "utf8");
        } catch {
          return "";
        }
      })();
      const slug = /instance_slug=(.*)/.exec(text)?.[1] ?? "another instance";
      throw new ConflictError(`${root} is inside the storage of ${slug} (${dir})`, hint);
    }
    if (dirname(dir) === dir) break;
  }
  const realHome = await realPathOf(home);
  if (isWithin(realHome, real)) {
    throw new ConflictError(
      `${root} holds lamindb's settings folder ${home} (API tokens, embedded databases)`,
      "choose a folder that does not hold it (or set LAMIN_HOME to a folder elsewhere)",
    );
  }
}
