/**
 * The run an instance is tracking (`ln.track()`, `lamin track`): artifacts and collections saved
 * meanwhile get its `run_id`; artifacts and collections loaded meanwhile become its inputs
 * (`lamindb_artifact_input_of_runs`, `lamindb_collection_input_of_runs`), except what the run
 * created itself (LaminDB's rule: no self-loops).
 */
import { sql } from "drizzle-orm";
import type { Instance } from "../instance.js";

export interface ActiveRun {
  id: number;
  uid: string;
}

const active = new WeakMap<object, ActiveRun>();

/** The run `instance` is tracking, if any. */
export function currentRun(instance: object): ActiveRun | undefined {
  return active.get(instance);
}

/** Start (or with undefined stop) attributing saves and loads of `instance` to `run`. */
export function setCurrentRun(instance: object, run: ActiveRun | undefined): void {
  if (run) active.set(instance, run);
  else active.delete(instance);
}

/** Record that the tracked run read an artifact (unless the run created it). */
export async function recordArtifactInput(
  instance: Instance,
  artifact: { id: number; runId: number | null },
): Promise<void> {
  const run = currentRun(instance);
  if (!run || artifact.runId === run.id) return;
  await instance.db.execute(
    sql`INSERT INTO lamindb_artifact_input_of_runs (artifact_id, run_id)
      VALUES (${artifact.id}, ${run.id}) ON CONFLICT DO NOTHING`,
  );
}

/** Record that the tracked run read a collection (unless the run created it). */
export async function recordCollectionInput(
  instance: Instance,
  collection: { id: number; runId: number | null },
): Promise<void> {
  const run = currentRun(instance);
  if (!run || collection.runId === run.id) return;
  await instance.db.execute(
    sql`INSERT INTO lamindb_collection_input_of_runs (collection_id, run_id)
      VALUES (${collection.id}, ${run.id}) ON CONFLICT DO NOTHING`,
  );
}
