/**
 * Feature (uid 12): an exact name match returns the existing feature (LaminDB's `search_names`);
 * one of the same name with another dtype is a conflict.
 */
import { sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { ConflictError, ValidationError } from "../../errors.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { LOCK } from "../locks.js";
import {
  type CreateResult,
  common,
  created,
  firstNamed,
  type Keyed,
  MAX_DESCRIPTION,
  plainUids,
  RecordRegistry,
  type Spec,
  selectTracked,
  type Tracked,
  tracked,
} from "./base.js";
import { requiredName, text } from "./checks.js";

export interface Feature extends Tracked {
  uid: string;
  name: string;
  /** LaminDB dtype string, e.g. `float`, `cat[ULabel]`, `list[str]`. */
  dtype: string | null;
  unit: string | null;
  description: string | null;
}

export interface FeatureInput {
  name: string;
  dtype: string;
  unit?: string | null;
  description?: string | null;
  /** Whether values may be missing when data is validated against a schema (default true). */
  nullable?: boolean;
}

const SIMPLE_DTYPES = new Set([
  "int",
  "float",
  "num",
  "str",
  "bool",
  "date",
  "datetime",
  "datetime64[ns, UTC]",
  "dict",
  "path",
  "url",
]);
const CAT_REGISTRIES =
  "ULabel|Record|Artifact|Collection|Transform|Run|Project|Reference|Feature|Schema|User|Storage|Space|Branch";
/** `ULabel`, `bionty.CellType`, optionally `[<type uid or filter>]` and `.field`. */
const CAT_TARGET = new RegExp(
  `^(?:${CAT_REGISTRIES}|[a-z][a-z0-9_]*\\.[A-Z][A-Za-z0-9_]*)(?:\\[[^\\[\\]|]+\\])?(?:\\.[a-z_][a-z0-9_]*)?$`,
);
export const DTYPE_EXAMPLES =
  "int, float, num, str, bool, date, datetime, dict, path, url, cat, cat[ULabel], cat[Record], cat[bionty.CellType], list[str], list[cat[ULabel]]";

/**
 * A dtype as stored: bare `cat` becomes `cat[ULabel]` (LaminDB does so on first use), also inside
 * `list[...]`; surrounding blanks are dropped.
 */
export function normalizeDtype(dtype: string): string {
  const d = dtype.trim();
  if (d === "cat") return "cat[ULabel]";
  if (d === "list[cat]") return "list[cat[ULabel]]";
  return d;
}

/** Whether `dtype` is a LaminDB dtype string (laminspec §3.4). */
export function isValidDtype(dtype: string, inList = false): boolean {
  if (SIMPLE_DTYPES.has(dtype) || dtype === "cat") return true;
  const list = /^list\[(.+)\]$/.exec(dtype);
  if (list) return !inList && isValidDtype(list[1] as string, true);
  const cat = /^cat\[(.+)\]$/.exec(dtype);
  if (cat) return (cat[1] as string).split("|").every((target) => CAT_TARGET.test(target));
  return false;
}

const f = t.feature;
const FEATURE_SPEC: Spec = {
  name: "feature",
  plural: "features",
  table: f,
  fields: {
    ...common(f),
    name: { column: f.name, type: "string" },
    dtype: { column: f.dtypeStr, type: "string" },
    unit: { column: f.unit, type: "string" },
    description: { column: f.description, type: "string" },
  },
  ...plainUids("feature", UID_LENGTHS.feature),
};
export const FEATURE_FILTER_FIELDS = Object.keys(FEATURE_SPEC.fields);

type FeatureSelected = Keyed<typeof t.feature.$inferSelect>;

export class Features extends RecordRegistry<FeatureSelected, Feature> {
  protected readonly spec = FEATURE_SPEC;

  protected select() {
    return selectTracked(this.db, f);
  }

  protected toPublic(s: FeatureSelected): Feature {
    const r = s.row;
    return {
      uid: r.uid,
      name: r.name,
      dtype: r.dtypeStr,
      unit: r.unit,
      description: r.description,
      ...tracked(s),
    };
  }

  /** Define a feature; one of the same name and dtype is returned, another dtype is a conflict. */
  async create(input: FeatureInput): Promise<CreateResult<Feature>> {
    const name = requiredName(input?.name, "feature", 150, "temperature");
    const given = text(input.dtype, "dtype", 255);
    const dtype = given === null ? null : normalizeDtype(given);
    if (dtype === null || !isValidDtype(dtype)) {
      throw new ValidationError(
        dtype === null
          ? `feature '${name}' needs a dtype`
          : `invalid dtype ${JSON.stringify(given)} for feature '${name}'; valid dtypes: ${DTYPE_EXAMPLES}`,
        `use a LaminDB dtype: ${DTYPE_EXAMPLES}`,
      );
    }
    const unit = text(input.unit, "unit", 30);
    const description = text(input.description, "description", MAX_DESCRIPTION);
    const nullable = input.nullable ?? true;
    if (typeof nullable !== "boolean") throw new ValidationError("nullable must be true or false");
    return this.decide([[LOCK.feature, name]], async (tx) => {
      const fields = { id: f.id, uid: f.uid, dtype: f.dtypeStr };
      const existing = await firstNamed(tx, f, fields, name, sql`${f.typeId} IS NULL`);
      if (existing) {
        if (existing.dtype !== dtype) {
          throw new ConflictError(
            `feature '${name}' already exists (${existing.uid}) with dtype '${existing.dtype}', not '${dtype}'`,
            "use the existing feature, or give the new one another name",
          );
        }
        return { id: existing.id, status: "existing" };
      }
      const uid = randomBase62(UID_LENGTHS.feature);
      const createdById = this.instance.user.id;
      return created(
        await tx
          .insert(f)
          .values({ uid, name, dtypeStr: dtype, unit, description, nullable, createdById })
          .returning({ id: f.id }),
      );
    });
  }
}
