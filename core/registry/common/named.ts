/** Registries whose rows are named once per instance, whatever the case: branches and spaces. */
import type * as t from "../../db/schema.js";
import { ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import { randomBase62 } from "../../uid.js";
import { MAX_DESCRIPTION } from "../records/base.js";

type NamedTable = typeof t.branch | typeof t.space;

/**
 * Insert a row named `name`, created by the instance's user; undefined when the name is taken
 * (their unique index on lower(name) decides, so two concurrent creates cannot both win).
 */
export async function insertNamed<T extends NamedTable>(
  instance: Instance,
  table: T,
  uidLength: number,
  name: string,
  description: string | undefined,
): Promise<T["$inferSelect"] | undefined> {
  if (description !== undefined && description.length > MAX_DESCRIPTION) {
    throw new ValidationError(`the description is longer than ${MAX_DESCRIPTION} characters`);
  }
  const [row] = await instance.db
    .insert(table as typeof t.branch)
    .values({
      uid: randomBase62(uidLength),
      name,
      description: description ?? null,
      createdById: instance.user.id,
    })
    .onConflictDoNothing()
    .returning();
  return row as T["$inferSelect"] | undefined;
}
