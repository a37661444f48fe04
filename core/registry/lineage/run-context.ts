/**
 * The run an instance is tracking (`ln.track()`, `lamin track`): artifacts and collections saved
 * meanwhile get its `run_id`; artifacts and collections loaded meanwhile become its inputs
 * (`lamindb_artifact_input_of_runs`, `lamindb_collection_input_of_runs`), except what the run
 * created itself (LaminDB's rule: no self-loops); artifacts and collections saved again that
 * existed already get the run as their run when they had none, else record it in
 * `lamindb_<registry>_recreating_runs` (unless the run read them). Records a run read (a sheet)
 * become its inputs too (`lamindb_record_input_of_runs`), except those it made.
 */
import { sql } from "drizzle-orm";
import { queryRows } from "../../db/client.js";
import type { Instance } from "../../instance.js";

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

type Registry = "artifact" | "collection";

/**
 * Record that the tracked run read an artifact (unless the run created it or re-created it:
 * LaminDB's rule against cycles).
 */
export function recordArtifactInput(
  instance: Instance,
  artifact: { id: number; runId: number | null },
): Promise<void> {
  return recordInput(instance, "artifact", artifact);
}

/** Record that the tracked run read a collection (unless the run created or re-created it). */
export function recordCollectionInput(
  instance: Instance,
  collection: { id: number; runId: number | null },
): Promise<void> {
  return recordInput(instance, "collection", collection);
}

async function recordInput(
  instance: Instance,
  registry: Registry,
  record: { id: number; runId: number | null },
): Promise<void> {
  const run = currentRun(instance);
  if (!run || record.runId === run.id) return;
  const column = sql.raw(`${registry}_id`);
  await instance.db.execute(
    sql`INSERT INTO ${sql.raw(`lamindb_${registry}_input_of_runs`)} (${column}, run_id)
      SELECT ${record.id}, ${run.id} WHERE NOT EXISTS (
        SELECT 1 FROM ${sql.raw(`lamindb_${registry}_recreating_runs`)}
        WHERE ${column} = ${record.id} AND run_id = ${run.id})
      ON CONFLICT DO NOTHING`,
  );
}

/**
 * Record that the tracked run read these records (LaminDB's sheet export: the type and its
 * records), except those the run made (no cycles).
 */
export async function recordRecordInputs(
  instance: Instance,
  records: readonly { id: number; runId: number | null }[],
): Promise<void> {
  const run = currentRun(instance);
  if (!run) return;
  const ids = [...new Set(records.filter((r) => r.runId !== run.id).map((r) => r.id))];
  if (ids.length === 0) return;
  await instance.db.execute(
    sql`INSERT INTO lamindb_record_input_of_runs (record_id, run_id)
      VALUES ${sql.join(
        ids.map((id) => sql`(${id}, ${run.id})`),
        sql`, `,
      )} ON CONFLICT DO NOTHING`,
  );
}

/**
 * LaminDB's `populate_recreating_run` (models/_lineage.py): the tracked run saved an artifact
 * (or made a collection) that existed already, deduplicated by its hash. A record without a run
 * gets this run as its run; otherwise the run is one of its `recreating_runs`, unless it created
 * it or read it (an input: no cycle). Returns true when the record got the run as its run.
 */
export async function recordRecreated(
  instance: Instance,
  registry: Registry,
  id: number,
): Promise<boolean> {
  const run = currentRun(instance);
  if (!run) return false;
  const table = sql.raw(`lamindb_${registry}`);
  const column = sql.raw(`${registry}_id`);
  // one statement: the INSERT sees the row as it was, so it skips what the UPDATE claimed
  const rows = await queryRows<{ claimed: boolean }>(
    instance.db,
    sql`WITH claimed AS (
        UPDATE ${table} SET run_id = ${run.id} WHERE id = ${id} AND run_id IS NULL RETURNING id
      ), recreated AS (
        INSERT INTO ${sql.raw(`lamindb_${registry}_recreating_runs`)} (${column}, run_id)
        SELECT id, ${run.id} FROM ${table}
        WHERE id = ${id} AND run_id <> ${run.id} AND NOT EXISTS (SELECT 1 FROM claimed)
          AND NOT EXISTS (SELECT 1 FROM ${sql.raw(`lamindb_${registry}_input_of_runs`)}
            WHERE ${column} = ${id} AND run_id = ${run.id})
        ON CONFLICT DO NOTHING
      )
      SELECT EXISTS (SELECT 1 FROM claimed) AS claimed`,
  );
  return rows[0]?.claimed === true;
}

/** uids of the runs that re-created an artifact or collection, in the order they did. */
export async function recreatingRuns(
  instance: Instance,
  registry: Registry,
  id: number,
): Promise<string[]> {
  const rows = await queryRows<{ uid: string }>(
    instance.db,
    sql`SELECT r.uid FROM ${sql.raw(`lamindb_${registry}_recreating_runs`)} l
      JOIN lamindb_run r ON r.id = l.run_id WHERE l.${sql.raw(`${registry}_id`)} = ${id}
      ORDER BY l.id`,
  );
  return rows.map((r) => r.uid);
}
