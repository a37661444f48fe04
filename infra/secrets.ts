/**
 * The stage's secrets, set with `npx sst secret set <Name> <value> --stage <stage>`.
 *
 * - DatabaseUrl (required): the Neon connection string of the hub database. Instance
 *   databases are created on the same server.
 * - NeonApiKey, NeonProjectId (optional, "none" when unset): with both, instance databases are
 *   created through Neon's API instead of `CREATE DATABASE` on the hub's server.
 */

/** The value of an optional secret that was not set. */
export const UNSET = "none";

export function secrets() {
  return {
    databaseUrl: new sst.Secret("DatabaseUrl"),
    neonApiKey: new sst.Secret("NeonApiKey", UNSET),
    neonProjectId: new sst.Secret("NeonProjectId", UNSET),
  };
}

export type Secrets = ReturnType<typeof secrets>;
