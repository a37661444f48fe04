/**
 * Schemas (LaminDB's `ln.Schema`): a named set of features that data must have, with
 * `minimal_set` (every feature is required, default), `maximal_set` (no other columns),
 * `ordered_set` (columns in this order), `coerce` (convert values to the feature's dtype) and
 * `flexible` (columns that are registered features but not members are validated too; default:
 * only for a schema without features). Members are `lamindb_schemafeature` rows in feature order.
 *
 * Composite schemas (itype `Composite`, LaminDB's `Schema(slots={...})`) have no features but
 * slots (`obs`, `var.T`, ...), each validated by a component schema: `lamindb_schemacomponent`
 * rows. The hash is LaminDB's (`_validate_kwargs_calculate_hash`, laminspec §1.5), with
 * `l = hash_string(":".join(sorted("slot=<component hash>")))` and `a=num` for composites (no
 * itype entry, as in LaminDB's AnnData vector). Rows store NULL where LaminDB does (`n_members`
 * without features, `coerce` unless true). Validating data: see validate.ts.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.js";
import { hashString } from "../../hash.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { closeMatches } from "../annotations/annotations.js";
import { TRASH } from "../common/branch.js";
import { LOCK, lock } from "../common/locks.js";
import { currentRun } from "../lineage/run-context.js";
import type { CreateResult } from "../records/base.js";

export interface SchemaMember {
  uid: string;
  name: string;
  dtype: string | null;
  nullable: boolean;
  coerce: boolean;
}

export interface Schema {
  uid: string;
  name: string | null;
  description: string | null;
  itype: string | null;
  /** Number of features; -1 for a schema without features (any registered feature validates). */
  n_members: number;
  hash: string | null;
  minimal_set: boolean;
  ordered_set: boolean;
  maximal_set: boolean;
  coerce: boolean;
  flexible: boolean;
  /** The features, in schema order. */
  features: SchemaMember[];
  /** Composite schemas: slot → component schema, in slot order (empty otherwise). */
  components: SchemaComponent[];
  created_at: string;
  created_by: string;
}

export interface SchemaComponent {
  slot: string;
  uid: string;
  name: string | null;
  hash: string | null;
}

/** itype of composite schemas. */
export const COMPOSITE = "Composite";

/** LaminDB's `NUMBER_TYPE`: the dtype of a schema whose itype is not Feature (composites). */
const NUMBER = "num";

export interface SchemaInput {
  name: string;
  /** Feature names (or uids), in order. */
  features?: string[];
  /**
   * A composite schema: slot → component schema (name or uid), e.g. `{ obs: "cells",
   * "var.T": "genes" }`. Validating a folder, each slot is the table file of that stem.
   */
  components?: Record<string, string>;
  /**
   * Also validate columns that are registered features but not members (unregistered columns
   * are never an issue then). Default: true without features, else false.
   */
  flexible?: boolean;
  description?: string | null;
  /** Every feature is required (default true). */
  minimalSet?: boolean;
  /** No columns other than the features (default false). */
  maximalSet?: boolean;
  /** Columns in the order of `features` (default false). */
  orderedSet?: boolean;
  /** Convert values to the feature's dtype ("37" → 37) before checking (default false). */
  coerce?: boolean;
}

// ------------------------------------------------------------------ LaminDB's hash

export interface HashInput {
  dtype?: string | null;
  itype?: string | null;
  minimalSet: boolean;
  orderedSet: boolean;
  maximalSet: boolean;
  /** Only hashed when it differs from its default (n < 0). */
  flexible?: boolean;
  coerce?: boolean;
  /** Number of features; -1 (the default, not hashed) without features. */
  n?: number;
  /** Member feature uids, in schema order; optional ones are marked `(i)`. */
  featureUids?: string[];
  optionalUids?: string[];
  /** Composite schemas: slot → component hash (entry `l`). */
  slots?: Record<string, string>;
  /** uid of the index feature (entry `k`; it is also the first of `featureUids`). */
  index?: string;
  /** Required artifact suffix (entry `m`). */
  suffix?: string;
}

const py = (b: boolean) => (b ? "True" : "False");

/** The `code=value` entries LaminDB hashes for a schema. */
export function schemaHashEntries(h: HashInput): string[] {
  const out: string[] = [];
  if (h.dtype != null) out.push(`a=${h.dtype}`);
  if (h.itype != null) out.push(`b=${h.itype}`);
  out.push(`c=${py(h.minimalSet)}`, `d=${py(h.orderedSet)}`, `e=${py(h.maximalSet)}`);
  const n = h.n ?? -1;
  if (h.flexible !== undefined && h.flexible !== n < 0) out.push(`f=${py(h.flexible)}`);
  if (h.coerce) out.push("g=True");
  if (n !== -1) out.push(`h=${n}`);
  if (h.featureUids?.length) {
    const optional = new Set(h.optionalUids ?? []);
    const uids = h.featureUids.map((u) => (optional.has(u) ? `${u}(i)` : u));
    out.push(`j=${hashString((h.orderedSet ? uids : [...uids].sort()).join(":"))}`);
  }
  if (h.index) out.push(`k=${h.index}`);
  if (h.slots && Object.keys(h.slots).length) {
    const parts = Object.entries(h.slots).map(([slot, hash]) => `${slot}=${hash}`);
    out.push(`l=${hashString(parts.sort().join(":"))}`);
  }
  if (h.suffix) out.push(`m=${h.suffix}`);
  return out.sort();
}

/** `hash_string(":".join(sorted(entries)))`. */
export function schemaHash(entries: readonly string[]): string {
  return hashString([...entries].sort().join(":"));
}

/** LaminDB's KNOWN_SCHEMAS: these hashes get fixed uids. */
const KNOWN_SCHEMAS: Record<string, string> = {
  "kMi7B_N88uu-YnbTLDU-DA": "0000000000000000",
  "1gocc_TJ1RU2bMwDRK-WUA": "0000000000000001",
  aqGWHvyY49W_PHELUMiBMw: "0000000000000002",
};

// ------------------------------------------------------------------ the registry

interface SchemaRow {
  id: number;
  uid: string;
  name: string | null;
  description: string | null;
  itype: string | null;
  n_members: number | null;
  hash: string | null;
  minimal_set: boolean;
  ordered_set: boolean;
  maximal_set: boolean;
  coerce: boolean | null;
  flexible: boolean | null;
  created_at: string | Date;
  created_by: string;
}

type Runner = Pick<Db, "execute">;
const rows = <T>(db: Runner, query: SQL) => queryRows<T>(db as Db, query);

export class Schemas {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  /**
   * Define a schema of features (by name). The same name and definition returns the existing
   * schema; the same name with another definition is a conflict. A contradictory definition
   * (unknown or repeated feature, ordered or maximal without features) writes nothing.
   */
  async create(input: SchemaInput): Promise<CreateResult<Schema>> {
    const name = typeof input?.name === "string" ? input.name.trim() : "";
    if (!name || name.length > 150) {
      throw new ValidationError(
        name ? "a schema name has at most 150 characters" : "a schema needs a name",
        "e.g. lamin schema create my_schema --features sample_id,n_cells",
      );
    }
    const names = input.features ?? [];
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string" || !n.trim())) {
      throw new ValidationError("features must be a list of feature names");
    }
    const wanted = names.map((n) => n.trim());
    const minimalSet = input.minimalSet ?? true;
    const orderedSet = input.orderedSet ?? false;
    const maximalSet = input.maximalSet ?? false;
    const coerce = input.coerce ?? false;
    const flexible = input.flexible ?? wanted.length === 0;
    for (const [flag, value] of [
      ["minimalSet", minimalSet],
      ["orderedSet", orderedSet],
      ["maximalSet", maximalSet],
      ["coerce", coerce],
      ["flexible", flexible],
    ] as const) {
      if (typeof value !== "boolean") throw new ValidationError(`${flag} must be true or false`);
    }
    const slots = checkSlots(name, input.components);
    if (slots.length > 0) {
      const given = [
        wanted.length ? "features" : "",
        input.flexible !== undefined ? "flexible" : "",
        coerce ? "coerce" : "",
      ].filter(Boolean);
      if (given.length) {
        throw new ValidationError(
          `schema '${name}' has components, so it cannot also have ${given.join(", ")}: each slot is validated by its component`,
          "put the features (and flags) in the component schemas, or drop --component",
        );
      }
    }
    const dupes = [...new Set(wanted.filter((n, i) => wanted.indexOf(n) !== i))];
    if (dupes.length) {
      throw new ValidationError(
        `schema '${name}' lists feature${dupes.length > 1 ? "s" : ""} ${dupes.map((d) => `'${d}'`).join(", ")} more than once`,
        "list each feature once",
      );
    }
    if (wanted.length === 0 && (orderedSet || maximalSet)) {
      throw new ValidationError(
        `schema '${name}' has no features, so it cannot be ${orderedSet ? "ordered" : "maximal"}`,
        "give --features a,b,c, or drop --ordered / --maximal",
      );
    }
    if (flexible && maximalSet) {
      throw new ValidationError(
        `schema '${name}' cannot be both flexible and maximal: flexible allows other columns, maximal forbids them`,
        "drop --flexible or --maximal",
      );
    }
    if (slots.length > 0) {
      return this.createComposite(name, description(input.description), slots, {
        minimalSet,
        orderedSet,
        maximalSet,
      });
    }
    const text = description(input.description);
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.schema, name);
      const features = await resolveFeatures(tx, wanted);
      const n = features.length > 0 ? features.length : -1;
      const hash = schemaHash(
        schemaHashEntries({
          itype: "Feature",
          minimalSet,
          orderedSet,
          maximalSet,
          flexible,
          coerce,
          n,
          featureUids: features.map((f) => f.uid),
        }),
      );
      const found = await this.existing(tx, name, hash);
      if (found) return found;
      const id = await this.insert(tx, {
        hash,
        name,
        text,
        n,
        coerce,
        flexible,
        itype: "Feature",
        minimalSet,
        orderedSet,
        maximalSet,
      });
      // one statement per member keeps the link ids in schema order (members are read by id)
      for (const f of features) {
        await tx.execute(
          sql`INSERT INTO lamindb_schemafeature (schema_id, feature_id) VALUES (${id}, ${f.id})`,
        );
      }
      return { record: await this.read(tx, id), status: "created" as const };
    });
  }

  /**
   * The schema of this name if it has this hash (another hash: a conflict), or the known schema
   * of this hash; undefined when a new one is to be made.
   */
  private async existing(
    tx: Runner,
    name: string,
    hash: string,
    legacyHash?: string,
  ): Promise<CreateResult<Schema> | undefined> {
    const [same] = await rows<{ id: number; hash: string | null; uid: string }>(
      tx,
      sql`SELECT id, hash, uid FROM lamindb_schema WHERE name = ${name} AND NOT is_type
        AND branch_id <> ${TRASH} ORDER BY id LIMIT 1`,
    );
    if (same) {
      if (same.hash !== hash && same.hash !== legacyHash) {
        throw new ConflictError(
          `schema '${name}' already exists (${same.uid}) with another definition`,
          "use the existing schema (lamin schema list), or give the new one another name",
        );
      }
      return { record: await this.read(tx, same.id), status: "existing" };
    }
    const known = KNOWN_SCHEMAS[hash];
    if (!known) return undefined;
    const [k] = await rows<{ id: number }>(
      tx,
      sql`SELECT id FROM lamindb_schema WHERE uid = ${known}`,
    );
    return k ? { record: await this.read(tx, k.id), status: "existing" } : undefined;
  }

  /** A composite schema: no features, one component schema per slot. */
  private async createComposite(
    name: string,
    text: string | null,
    slots: [string, string][],
    flags: { minimalSet: boolean; orderedSet: boolean; maximalSet: boolean },
  ): Promise<CreateResult<Schema>> {
    const userId = this.instance.user.id;
    const runId = currentRun(this.instance)?.id ?? null;
    return this.db.transaction(async (tx) => {
      await lock(tx, LOCK.schema, name);
      const components: { slot: string; id: number; hash: string }[] = [];
      for (const [slot, ref] of slots) {
        const id = await this.idOf(ref, tx);
        const [c] = await rows<{ hash: string | null; itype: string | null; name: string | null }>(
          tx,
          sql`SELECT hash, itype, name FROM lamindb_schema WHERE id = ${id}`,
        );
        if (c?.itype === COMPOSITE) {
          throw new ValidationError(
            `slot '${slot}': schema '${c.name ?? ref}' is composite itself`,
            "give each slot a schema of features",
          );
        }
        components.push({ slot, id, hash: c?.hash ?? "" });
      }
      const reused = components.find((c, i) => components.findIndex((d) => d.id === c.id) !== i);
      if (reused) {
        const first = components.find((c) => c.id === reused.id) as { slot: string };
        throw new ValidationError(
          `slots '${first.slot}' and '${reused.slot}' name the same schema '${slots.find(([s]) => s === reused.slot)?.[1]}'`,
          "give each slot its own component schema",
        );
      }
      // LaminDB hashes a composite without itype and member count, with dtype "num"
      const slotHashes = Object.fromEntries(components.map((c) => [c.slot, c.hash]));
      const hash = schemaHash(schemaHashEntries({ dtype: NUMBER, ...flags, slots: slotHashes }));
      // composites made before this build were hashed without `a=num`: the same schema
      const legacy = schemaHash(schemaHashEntries({ ...flags, slots: slotHashes }));
      const found = await this.existing(tx, name, hash, legacy);
      if (found) return found;
      const id = await this.insert(tx, {
        hash,
        name,
        text,
        n: -1,
        coerce: false,
        flexible: true,
        itype: COMPOSITE,
        dtype: NUMBER,
        ...flags,
      });
      for (const c of components) {
        await tx.execute(
          sql`INSERT INTO lamindb_schemacomponent (composite_id, component_id, slot, created_by_id, run_id)
            VALUES (${id}, ${c.id}, ${c.slot}, ${userId}, ${runId})`,
        );
      }
      return { record: await this.read(tx, id), status: "created" as const };
    });
  }

  /**
   * The `lamindb_schema` row of a new schema (a known hash keeps its fixed uid), made by the
   * current user and the tracked run, if any.
   */
  private async insert(
    tx: Runner,
    s: {
      hash: string;
      name: string;
      text: string | null;
      n: number;
      coerce: boolean;
      flexible: boolean;
      itype: string;
      dtype?: string;
      minimalSet: boolean;
      orderedSet: boolean;
      maximalSet: boolean;
    },
  ): Promise<number> {
    const uid = KNOWN_SCHEMAS[s.hash] ?? randomBase62(UID_LENGTHS.schema);
    const runId = currentRun(this.instance)?.id ?? null;
    const [row] = await rows<{ id: number }>(
      tx,
      // LaminDB stores None for "no fixed number of features" and for coerce unless it is true
      sql`INSERT INTO lamindb_schema (uid, name, description, n_members, coerce, flexible, itype,
          _dtype_str, hash, minimal_set, ordered_set, maximal_set, created_by_id, run_id)
        VALUES (${uid}, ${s.name}, ${s.text}, ${s.n < 0 ? null : s.n}, ${s.coerce ? true : null},
          ${s.flexible}, ${s.itype}, ${s.dtype ?? null}, ${s.hash}, ${s.minimalSet},
          ${s.orderedSet}, ${s.maximalSet}, ${this.instance.user.id}, ${runId}) RETURNING id`,
    );
    return Number((row as { id: number }).id);
  }

  /** A schema by name or uid. */
  async get(ref: string): Promise<Schema> {
    return this.read(this.db, await this.idOf(ref));
  }

  /** Schemas, newest first. */
  async list(opts: { limit?: number } = {}): Promise<Schema[]> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), 10_000);
    const found = await rows<{ id: number }>(
      this.db,
      sql`SELECT id FROM lamindb_schema WHERE NOT is_type AND branch_id <> ${TRASH}
        ORDER BY id DESC LIMIT ${limit}`,
    );
    const out: Schema[] = [];
    for (const r of found) out.push(await this.read(this.db, Number(r.id)));
    return out;
  }

  private async idOf(ref: string, db: Runner = this.db): Promise<number> {
    if (typeof ref !== "string" || !ref.trim()) {
      throw new ValidationError(
        "which schema? give its name or uid",
        "list them: lamin schema list",
      );
    }
    const [hit] = await rows<{ id: number }>(
      db,
      sql`SELECT id FROM lamindb_schema WHERE (uid = ${ref} OR name = ${ref}) AND NOT is_type
        AND branch_id <> ${TRASH} ORDER BY (uid = ${ref}) DESC, id LIMIT 1`,
    );
    if (hit) return Number(hit.id);
    const all = await rows<{ name: string }>(
      db,
      sql`SELECT name FROM lamindb_schema WHERE name IS NOT NULL AND branch_id <> ${TRASH} LIMIT 10000`,
    );
    const close = closeMatches(
      ref,
      all.map((a) => a.name),
    );
    throw new NotFoundError(
      `no schema '${ref}'${close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(", ")}?` : ""}`,
      "list them: lamin schema list; define one: lamin schema create NAME --features a,b",
    );
  }

  private async read(db: Runner, id: number): Promise<Schema> {
    const [r] = await rows<SchemaRow>(
      db,
      sql`SELECT s.id, s.uid, s.name, s.description, s.itype, s.n_members, s.hash, s.minimal_set,
          s.ordered_set, s.maximal_set, s.coerce, s.flexible, s.created_at, u.handle AS created_by
        FROM lamindb_schema s JOIN lamindb_user u ON u.id = s.created_by_id WHERE s.id = ${id}`,
    );
    if (!r) throw new NotFoundError(`no schema with id ${id}`);
    const members = await rows<SchemaMember>(
      db,
      sql`SELECT f.uid, f.name, f._dtype_str AS dtype, f.nullable, f.coerce
        FROM lamindb_schemafeature l JOIN lamindb_feature f ON f.id = l.feature_id
        WHERE l.schema_id = ${id} ORDER BY l.id`,
    );
    const components =
      r.itype === COMPOSITE
        ? await rows<SchemaComponent>(
            db,
            sql`SELECT c.slot, s.uid, s.name, s.hash FROM lamindb_schemacomponent c
              JOIN lamindb_schema s ON s.id = c.component_id WHERE c.composite_id = ${id} ORDER BY c.id`,
          )
        : [];
    // NULL: no fixed number of features (LaminDB's flexible schema), -1 in the public shape
    const n = r.n_members ?? -1;
    return {
      uid: r.uid,
      name: r.name,
      description: r.description,
      itype: r.itype,
      n_members: n,
      hash: r.hash,
      minimal_set: r.minimal_set,
      ordered_set: r.ordered_set,
      maximal_set: r.maximal_set,
      coerce: r.coerce ?? false,
      flexible: r.flexible ?? n < 0,
      features: members,
      components,
      created_at: new Date(r.created_at).toISOString(),
      created_by: r.created_by,
    };
  }

  /** The row id of a schema (for artifact.schema_id). */
  async rowId(ref: string): Promise<number> {
    return this.idOf(ref);
  }
}

function description(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new ValidationError("description must be text");
  return value;
}

/** `lamindb_schemacomponent.slot` is varchar(40); a slot is a file stem in a folder. */
const SLOT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,39}$/;

/** The slots of a composite schema, checked: [slot, component ref][], in the given order. */
function checkSlots(name: string, components: unknown): [string, string][] {
  if (components === undefined || components === null) return [];
  if (typeof components !== "object" || Array.isArray(components)) {
    throw new ValidationError(
      "components must be an object of slot → schema name",
      'e.g. { "obs": "cells", "var.T": "genes" }',
    );
  }
  const entries = Object.entries(components as Record<string, unknown>);
  if (entries.length === 0) {
    throw new ValidationError(
      `schema '${name}': components is empty`,
      "give at least one slot: --component obs=cells",
    );
  }
  for (const [slot, ref] of entries) {
    if (!SLOT.test(slot)) {
      throw new ValidationError(
        `schema '${name}': '${slot}' is not a slot name`,
        "a slot is a file stem of up to 40 letters, digits, '_', '.' or '-', e.g. obs or var.T",
      );
    }
    if (typeof ref !== "string" || !ref.trim()) {
      throw new ValidationError(
        `schema '${name}': slot '${slot}' names no schema`,
        "e.g. --component obs=cells",
      );
    }
  }
  return entries.map(([slot, ref]) => [slot, (ref as string).trim()]);
}

/** Features by name or uid, in the given order; unknown ones are one error with close matches. */
async function resolveFeatures(
  db: Runner,
  refs: string[],
): Promise<{ id: number; uid: string; name: string }[]> {
  if (refs.length === 0) return [];
  const list = sql.join(
    refs.map((r) => sql`${r}`),
    sql`, `,
  );
  const found = await rows<{ id: number; uid: string; name: string }>(
    db,
    sql`SELECT id, uid, name FROM lamindb_feature WHERE (name IN (${list}) OR uid IN (${list}))
      AND NOT is_type AND branch_id <> ${TRASH} ORDER BY id`,
  );
  const out: { id: number; uid: string; name: string }[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    const hit = found.find((f) => f.uid === ref) ?? found.find((f) => f.name === ref);
    if (hit) out.push({ ...hit, id: Number(hit.id) });
    else unknown.push(ref);
  }
  if (unknown.length) {
    const all = await rows<{ name: string }>(
      db,
      sql`SELECT name FROM lamindb_feature WHERE NOT is_type AND branch_id <> ${TRASH} LIMIT 10000`,
    );
    const pool = all.map((a) => a.name);
    const parts = unknown.map((u) => {
      const c = closeMatches(u, pool);
      return `'${u}'${c.length ? ` (did you mean ${c.map((x) => `'${x}'`).join(", ")}?)` : ""}`;
    });
    throw new ValidationError(
      `unknown feature${unknown.length > 1 ? "s" : ""}: ${parts.join(", ")}`,
      `define ${unknown.length > 1 ? "them" : "it"} first: lamin feature create ${unknown[0]} --dtype <dtype>`,
    );
  }
  const ids = out.map((f) => f.id);
  const same = out.filter((f, i) => ids.indexOf(f.id) !== i);
  if (same.length) {
    throw new ValidationError(
      `feature '${same[0]?.name}' is listed more than once (by name and by uid)`,
      "list each feature once",
    );
  }
  return out;
}
