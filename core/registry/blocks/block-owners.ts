/**
 * The registries whose records carry blocks (LaminDB's `<registry>block` tables), by name: plain
 * data, so that the command line can declare its options without loading the database layer.
 */
export const BLOCK_OWNER_NAMES = [
  "artifact",
  "collection",
  "transform",
  "run",
  "record",
  "feature",
  "schema",
  "project",
  "ulabel",
  "space",
  "branch",
] as const;
export type BlockOwnerName = (typeof BLOCK_OWNER_NAMES)[number];
