/**
 * The filtered list's two statements as the registry sends them (core/registry/artifacts): the
 * page's ids, then their rows. The floor of the list in bench/api.ts (the bare route in
 * serve-api.ts and the raw SQL layer) runs exactly these.
 */
export const LIST_IDS = `SELECT id FROM lamindb_artifact WHERE key LIKE $1 AND branch_id IN (1) AND is_latest
  ORDER BY (created_at + interval '0 s') DESC, (id + 0) DESC LIMIT 50`;
export const LIST_ROWS = `SELECT a.id, a.uid, a.key, a._real_key, a.description, a.suffix, a.kind, a.otype,
  a.size, a.hash, a._hash_type, a.n_files, a.n_observations, a._key_is_virtual,
  a._overwrite_versions, a.version_tag, a.is_latest, a.created_at, a.updated_at, a.branch_id,
  a.space_id, a._aux, s.root, u.handle, r.uid AS run_uid
  FROM lamindb_artifact a JOIN lamindb_storage s ON a.storage_id = s.id
  JOIN lamindb_user u ON a.created_by_id = u.id LEFT JOIN lamindb_run r ON a.run_id = r.id
  WHERE a.id = ANY($1::int[])`;
