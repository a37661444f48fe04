/**
 * Feature (uid 12): an exact name match returns the existing feature (LaminDB's `search_names`);
 * one of the same name with another dtype is a conflict.
 */
import { sql } from "drizzle-orm";
import * as t from "../../db/schema.js";
import { ConflictError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { onCurrentBranch } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import { type CreateResult, created, firstNamed, MAX_DESCRIPTION } from "./base.js";

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
export const FeatureModel = defineRegistry({
  name: "feature",
  plural: "features",
  doc: "Features: the dimensions of data (columns, annotations) with a dtype",
  table: f,
  uid: { length: UID_LENGTHS.feature, example: "8GPjkwXGNfpL" },
  fields: {
    uid: field.column(f.uid, { example: "8GPjkwXGNfpL" }),
    name: field.column(f.name, { example: "temperature" }),
    dtype: field.column(f.dtypeStr, {
      example: "float",
      doc: `LaminDB dtype string: ${DTYPE_EXAMPLES}`,
    }),
    unit: field.column(f.unit),
    description: field.column(f.description),
    synonyms: field.column(f.synonyms, { doc: "other names, separated by '|'" }),
  },
  inputs: {
    name: input.required(input.string(150, { example: "temperature" })),
    dtype: input.required(input.string(255, { example: "float", doc: DTYPE_EXAMPLES })),
    unit: input.string(30),
    description: input.string(MAX_DESCRIPTION),
    nullable: input.boolean({
      doc: "whether values may be missing in validated data (default true)",
    }),
  },
  search: ["name", "synonyms"],
});
export const FEATURE_FILTER_FIELDS = Object.keys(FeatureModel.spec.fields);

export type Feature = PublicOf<typeof FeatureModel>;
export type FeatureInput = InputOf<typeof FeatureModel>;

export class Features extends ModelRegistry<typeof FeatureModel> {
  constructor(instance: Instance) {
    super(instance, FeatureModel);
  }

  /** Define a feature; one of the same name and dtype is returned, another dtype is a conflict. */
  async create(given: FeatureInput): Promise<CreateResult<Feature>> {
    const checked = this.model.check(given);
    const { name, unit, description } = checked;
    const dtype = normalizeDtype(checked.dtype);
    if (!isValidDtype(dtype)) {
      throw new ValidationError(
        `invalid dtype ${JSON.stringify(checked.dtype)} for feature '${name}'; valid dtypes: ${DTYPE_EXAMPLES}`,
        `use a LaminDB dtype: ${DTYPE_EXAMPLES}`,
      );
    }
    const nullable = checked.nullable ?? true;
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
          .values({
            uid,
            name,
            dtypeStr: dtype,
            unit,
            description,
            nullable,
            createdById,
            ...onCurrentBranch(this.instance),
          })
          .returning({ id: f.id }),
      );
    });
  }
}
