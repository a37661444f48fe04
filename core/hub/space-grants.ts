/**
 * Which spaces a hub caller may read and write on an instance, from its instance role and its
 * roles in restricted spaces (LaminDB's rules, docs/spaces.md):
 * - owners and admins see every space: no restriction (and no transaction wrapper);
 * - space `all` (id 1) is every collaborator's, with their instance role;
 * - a restricted space is its members' only: read with any space role, write with `write` or
 *   `admin` there. Writing anywhere also needs the instance role `write` (the routes' guard).
 */
import type { SpaceGrants } from "../db/space-policies.js";
import { allows, type InstanceRole } from "./roles.js";
import type { CollaboratorRole } from "./schema.js";

export interface SpaceRole {
  spaceId: number;
  role: CollaboratorRole;
}

const ALL = 1;

/** The grants of a restricted caller, or undefined for one who sees everything. */
export function spaceGrants(
  role: InstanceRole,
  spaces: readonly SpaceRole[],
): SpaceGrants | undefined {
  if (allows(role, "admin")) return undefined;
  const writes = allows(role, "write");
  return {
    read: [ALL, ...spaces.map((s) => s.spaceId)],
    write: writes
      ? [ALL, ...spaces.filter((s) => allows(s.role, "write")).map((s) => s.spaceId)]
      : [],
  };
}
