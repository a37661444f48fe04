/**
 * Spaces (LaminDB's `Space`): who may see a record. Every record carries the `space_id` it lives
 * in; space `all` (id 1) is every collaborator's, a restricted space only its members' (granted on
 * the hub, enforced by the database: core/db/space-policies.ts). See docs/spaces.md.
 */
import { eq, sql } from "drizzle-orm";
import * as t from "../db/schema.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Instance } from "../instance.js";
import { UID_LENGTHS } from "../uid.js";
import { insertNamed } from "./common/named.js";

/** The space every instance starts with (LaminDB: id 1, uid `aaaaaaaaaaaa`). */
export const ALL_SPACE = { id: 1, uid: "aaaaaaaaaaaa", name: "all" } as const;

export interface Space {
  uid: string;
  name: string;
  description: string | null;
  created_at: string;
  created_by: string | null;
}

/** A space as the instance uses it: the id records carry. */
export interface SpaceRef {
  id: number;
  uid: string;
  name: string;
}

const s = t.space;

export function validateSpaceName(name: unknown): string {
  // printable text (LaminDB: a CharField of 100), without surrounding blanks (`lab ` and `lab`
  // would look the same in every listing) and without `/` (a name is a segment of hub URLs)
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > 100 ||
    name.trim() !== name ||
    /[\p{Cc}/]/u.test(name)
  ) {
    throw new ValidationError(
      `'${String(name).slice(0, 120)}' is not a space name`,
      "use 1-100 printable characters, no '/' and no leading or trailing blanks, e.g. lab-a",
    );
  }
  return name;
}

export class Spaces {
  constructor(private readonly instance: Instance) {}

  private get db() {
    return this.instance.db;
  }

  /** Every space the caller may see, `all` first (LaminDB: `lamin list space`). */
  async list(): Promise<Space[]> {
    const rows = await this.db
      .select({ row: s, by: t.user.handle })
      .from(s)
      .leftJoin(t.user, eq(t.user.id, s.createdById))
      .orderBy(s.id);
    return rows.map((r) => toPublic(r.row, r.by));
  }

  /** The space with this id (the hub keeps space roles by id), or undefined. */
  async byId(id: number): Promise<SpaceRef | undefined> {
    const [row] = await this.db
      .select({ id: s.id, uid: s.uid, name: s.name })
      .from(s)
      .where(eq(s.id, id));
    return row;
  }

  /** A space by name (whatever its case, as its unique index) or uid. */
  async get(ref: string): Promise<Space> {
    const { row, by } = await this.find(ref);
    return toPublic(row, by);
  }

  /** The space a name or uid names, for writes that go there (`save(..., { space })`). */
  async resolve(ref: string): Promise<SpaceRef> {
    const { row } = await this.find(ref);
    return { id: row.id, uid: row.uid, name: row.name };
  }

  private async find(ref: string): Promise<{ row: typeof s.$inferSelect; by: string | null }> {
    if (typeof ref !== "string" || ref.length === 0 || ref.length > 100) {
      throw new ValidationError("name a space by its name or uid", "e.g. --space all");
    }
    const [hit] = await this.db
      .select({ row: s, by: t.user.handle })
      .from(s)
      .leftJoin(t.user, eq(t.user.id, s.createdById))
      .where(sql`lower(${s.name}) = lower(${ref}) OR ${s.uid} = ${ref}`)
      .orderBy(sql`${s.uid} = ${ref} DESC`)
      .limit(1);
    if (hit) return hit;
    // only the spaces the caller may see are named: the others stay unknown to them
    const names = (await this.db.select({ name: s.name }).from(s).orderBy(s.id)).map((r) => r.name);
    throw new NotFoundError(
      `no space '${ref.slice(0, 100)}'; the spaces you can use: ${names.join(", ")}`,
      "name one of them (lamin list space); an admin creates a space with lamin create space NAME",
    );
  }

  /** A new space (LaminDB: a name taken in any case is refused). Admins create spaces. */
  async create(name: string, opts: { description?: string } = {}): Promise<Space> {
    validateSpaceName(name);
    const row = await insertNamed(this.instance, s, UID_LENGTHS.space, name, opts.description);
    if (!row) {
      throw new ConflictError(
        `space '${name}' already exists (names are the same whatever their case)`,
        "pick another name, or save into it: lamin save FILE --space NAME",
      );
    }
    this.instance.spaceNames.learn(row.id, row.name);
    return toPublic(row, this.instance.user.handle);
  }
}

function toPublic(row: typeof s.$inferSelect, by: string | null): Space {
  return {
    uid: row.uid,
    name: row.name,
    description: row.description,
    created_at: row.createdAt.toISOString(),
    created_by: by,
  };
}
