/**
 * `lamin settings export --python` (and `init`/`connect` with `--python`): write the settings
 * Python LaminDB reads, so that `import lamindb` opens the instance (see docs/python.md).
 */
import { realpathSync } from "node:fs";
import { ValidationError } from "../../core/errors.js";
import {
  assertPythonCanOpen,
  type PythonExport,
  pythonInstanceStore,
  pythonUsage,
  readStoreSources,
  writePythonSettings,
} from "../../core/python-settings.js";
import { type InstanceSettings, resolveInstanceSettings } from "../../core/settings.js";
import { openInstanceDatabase } from "../../core/setup.js";
import { note, printJson, say } from "../output.js";

export interface PythonExportOptions {
  json?: boolean;
  python?: boolean;
  instance?: string;
  force?: boolean;
  current?: boolean;
}

/** `lamin settings export --python [--instance NAME] [--current] [--force]`. */
export async function exportSettings(opts: PythonExportOptions): Promise<void> {
  if (!opts.python) {
    throw new ValidationError(
      "say which settings to export",
      "pass --python: the settings Python LaminDB (lamindb_setup) reads",
    );
  }
  const settings = resolveInstanceSettings(opts.instance);
  const result = await exportForPython(settings, opts);
  report(result, opts.json === true);
}

/** Write Python's settings of a known instance (its database tells storage row and modules). */
export async function exportForPython(
  settings: InstanceSettings,
  opts: { force?: boolean; current?: boolean },
): Promise<PythonExport> {
  assertPythonCanOpen(settings); // before opening anything
  const database = await openInstanceDatabase(settings.name);
  let sources: Awaited<ReturnType<typeof readStoreSources>>;
  try {
    sources = await readStoreSources(database.db, settings);
  } finally {
    await database.close();
  }
  return writePythonSettings(pythonInstanceStore(settings, sources), opts);
}

/** The export as --json shows it: never the store itself, which holds the database password. */
export function exportSummary(result: PythonExport) {
  const { store, ...rest } = result;
  return {
    ...rest,
    instance: `${store.owner}/${store.name}`,
    python: pythonUsage(result),
    notes: caveats(result),
  };
}

export function report(result: PythonExport, json: boolean): void {
  const python = pythonUsage(result);
  const notes = caveats(result);
  if (json) {
    printJson(exportSummary(result));
    return;
  }
  const slug = `${result.store.owner}/${result.store.name}`;
  say(
    result.status === "unchanged"
      ? `Python's settings of ${slug} are up to date: ${result.file}`
      : `wrote Python's settings of ${slug}: ${result.file}`,
  );
  if (result.current) {
    say(
      `made it Python's current instance: ${result.current.file}${result.current.previous ? ` (was ${result.current.previous})` : ""}`,
    );
  }
  say("in Python:");
  for (const line of python) say(`  ${line}`);
  for (const line of notes) note(`note: ${line}`);
}

/** What Python will see differently from here, said once. */
function caveats(result: PythonExport): string[] {
  const out: string[] = [];
  const root = result.store.storage_root;
  if (!result.local) {
    out.push(
      "Python treats this instance as remote (its database is not on localhost/127.0.0.1 with a user, or its storage is a bucket): `ln.connect(slug)` would ask LaminHub, so connect on import as shown",
    );
  }
  if (!root.includes("://")) {
    try {
      const real = realpathSync(root);
      if (real !== root) {
        out.push(
          `Python resolves the storage folder to ${real}; its storage row says ${root}, so Python will not find it as the default storage: use a path without symbolic links`,
        );
      }
    } catch {
      out.push(`the storage folder ${root} does not exist on this machine`);
    }
  }
  return out;
}
