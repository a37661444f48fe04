/** LaminDB's branches, by `branch_id`: where a record lives. */
export const TRASH = -1;
export const MAIN = 1;

const BRANCH_NAMES: Record<number, string> = { [TRASH]: "trash", 0: "archive", [MAIN]: "main" };

/** `main`, `trash` or `archive` (the id itself for other branches). */
export const branchName = (branchId: number): string => BRANCH_NAMES[branchId] ?? String(branchId);
