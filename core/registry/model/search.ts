/**
 * `search(registry, text)`: LaminDB's ranked search (`QuerySet.search`, laminspec §4.10), computed
 * in SQL over a registry's name (and synonyms where the table has them), case-insensitive:
 * exact match 200, "|"-synonym match 200, word/sub-phrase 10, prefix 8, left sub-phrase 2,
 * contains 1. Beyond LaminDB, blanks, '-' and '_' count as one separator for a match of 10 (equal)
 * or 1 (contains), so "t cell" finds "T-cell". Rows that match nowhere are not returned; the trash
 * is hidden.
 */
import { getTableName, type SQL, sql } from "drizzle-orm";
import { queryRows } from "../../db/client.js";
import { ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { TRASH } from "../common/branch.js";
import { BlockModel } from "../records/blocks.js";
import { CollectionModel } from "../records/collections.js";
import { FeatureModel } from "../records/features.js";
import { ProjectModel } from "../records/projects.js";
import { RecordModel } from "../records/record.js";
import { ReferenceModel } from "../records/references.js";
import { TransformModel } from "../records/transforms.js";
import { ULabelModel } from "../records/ulabels.js";
import type { AnyRegistryModel } from "./model.js";
import { likeEscape } from "./query.js";

interface Searchable {
  table: string;
  /** Text columns searched (all of them summed). */
  fields: string[];
  /** The column shown as the hit's name. */
  name: string;
  /** Rows searched besides those outside the trash. */
  where?: SQL;
}

/** What a declared registry searches: its `search` fields, the first one shown as the name. */
function searchableOf(model: AnyRegistryModel): Searchable {
  const columns = model.search.map((key) => {
    const f = model.fields[key];
    if (f?.kind !== "column") throw new Error(`${model.name}.${key} is not a column to search`);
    return f.column.name;
  });
  return { table: getTableName(model.table), fields: columns, name: columns[0] as string };
}

export const SEARCHABLE: Record<string, Searchable> = {
  ...Object.fromEntries(
    [
      ULabelModel,
      FeatureModel,
      ProjectModel,
      RecordModel,
      ReferenceModel,
      TransformModel,
      CollectionModel,
      BlockModel,
    ].map((m) => [m.name, searchableOf(m)]),
  ),
  // as `ls`: one hit per artifact, its latest version (`ls --all-versions` lists the others)
  artifact: {
    table: "lamindb_artifact",
    fields: ["key", "description"],
    name: "key",
    where: sql`is_latest`,
  },
};
export const SEARCH_REGISTRIES = Object.keys(SEARCHABLE);

export interface SearchHit {
  uid: string;
  /** Name (or key) of the hit. */
  name: string | null;
  /** LaminDB's rank: higher is better. */
  score: number;
}

export interface SearchOptions {
  /** At most this many hits (default 20, at most 1000). */
  limit?: number;
}

/** `s` as a literal inside a Postgres regular expression. */
function regexEscape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|-]/g, (c) => `\\${c}`);
}

/** Registry names as typed: `ulabel`, `ulabels`, `ULabel`. */
function registryOf(name: string): Searchable {
  const key = name.toLowerCase().replace(/s$/, "");
  const spec = SEARCHABLE[key];
  if (!spec) {
    throw new ValidationError(
      `cannot search '${name}'`,
      `search one of: ${SEARCH_REGISTRIES.join(", ")}`,
    );
  }
  return spec;
}

export async function search(
  instance: Instance,
  registry: string,
  text: string,
  opts: SearchOptions = {},
): Promise<SearchHit[]> {
  const spec = registryOf(registry);
  if (typeof text !== "string" || text.trim() === "") {
    throw new ValidationError("search needs some text", 'e.g. lamin search ulabel "t cell"');
  }
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError("limit must be an integer from 1 to 1000");
  }
  const q = text.trim();
  const re = regexEscape(q);
  const like = `%${likeEscape(q)}%`;
  const normalized = q.toLowerCase().replace(/[\s_-]+/g, " ");
  const normLike = `%${likeEscape(normalized)}%`;
  const norm = (c: SQL) => sql`regexp_replace(lower(${c}), '[[:space:]_-]+', ' ', 'g')`;
  const ranks = spec.fields.map((f) => {
    const c = sql.raw(`coalesce("${f}"::text, '')`);
    return sql`(CASE WHEN lower(${c}) = lower(${q}) THEN 200 ELSE 0 END
      + CASE WHEN ${c} ~* ${`(^|\\|)\\s*${re}\\s*(\\||$)`} THEN 200 ELSE 0 END
      + CASE WHEN ${c} ~* ${`(^|[ |.,;:])${re}([ |.,;:]|$)`} THEN 10 ELSE 0 END
      + CASE WHEN ${c} ~* ${`(^|\\|)${re}[^ ]*(\\||$)`} THEN 8 ELSE 0 END
      + CASE WHEN ${c} ~* ${`(^|[ |])${re}`} THEN 2 ELSE 0 END
      + CASE WHEN ${c} ILIKE ${like} THEN 1 ELSE 0 END
      + CASE WHEN ${norm(c)} = ${normalized} THEN 10 ELSE 0 END
      + CASE WHEN ${norm(c)} LIKE ${normLike} THEN 1 ELSE 0 END)`;
  });
  // "t cell" also finds "T-cell" and "t_cell": blanks, '-' and '_' count as one separator
  const anyContains = sql.join(
    spec.fields.map((f) => sql`${norm(sql.raw(`coalesce("${f}"::text, '')`))} LIKE ${normLike}`),
    sql` OR `,
  );
  const rows = await queryRows<{ uid: string; name: string | null; score: number }>(
    instance.db,
    sql`SELECT uid, ${sql.raw(`"${spec.name}"`)} AS name, (${sql.join(ranks, sql` + `)})::int AS score
      FROM ${sql.raw(`"${spec.table}"`)}
      WHERE (${anyContains}) AND branch_id <> ${TRASH}${spec.where ? sql` AND ${spec.where}` : sql``}
      ORDER BY score DESC, ${sql.raw(`"${spec.name}"`)}, id LIMIT ${limit}`,
  );
  return rows.map((r) => ({ uid: r.uid, name: r.name, score: Number(r.score) }));
}
