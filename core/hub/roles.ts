/** What a caller may do on an instance of the hub: its role, and what each need takes. */

export type InstanceRole = "owner" | "admin" | "write" | "read";
/** What an operation on an instance needs: read to look, write to change, admin to destroy or repair. */
export type Need = "read" | "write" | "admin";

const RANK: Record<InstanceRole, number> = { read: 1, write: 2, admin: 3, owner: 4 };

/** Whether `role` grants `need`; the owner can do everything an admin can. */
export function allows(role: InstanceRole | undefined, need: Need): boolean {
  return role !== undefined && RANK[role] >= RANK[need];
}

/** The strongest of some roles (undefined for none). */
export function strongest(...roles: (InstanceRole | undefined)[]): InstanceRole | undefined {
  let best: InstanceRole | undefined;
  for (const r of roles) if (r && (!best || RANK[r] > RANK[best])) best = r;
  return best;
}
