/** LaminDB's branches, by `branch_id`: where a record lives. */
export const TRASH = -1;
export const ARCHIVE = 0;
export const MAIN = 1;

const BRANCH_NAMES: Record<number, string> = {
  [TRASH]: "trash",
  [ARCHIVE]: "archive",
  [MAIN]: "main",
};

/** `main`, `trash` or `archive` (the id itself for other branches). */
export const branchName = (branchId: number): string => BRANCH_NAMES[branchId] ?? String(branchId);

/** The branch a session writes to (LaminDB's `ln.setup.settings.branch`). */
export interface CurrentBranch {
  id: number;
  uid: string;
  name: string;
}

export const MAIN_BRANCH: CurrentBranch = { id: MAIN, uid: "mmmmmmmmmmmm", name: "main" };

/**
 * The branches a default query shows (LaminDB's `get_default_branch_ids`): the current branch,
 * plus `main` when the current one is another.
 */
export const visibleBranchIds = (current: number): number[] =>
  current === MAIN ? [MAIN] : [current, MAIN];

/** LaminDB's `Branch._status_code` (lamindb/base/types.py, BRANCH_STATUS_TO_CODE). */
export const BRANCH_STATUS = {
  closed: -2,
  merged: -1,
  standalone: 0,
  draft: 1,
  review: 2,
} as const;
export type BranchStatus = keyof typeof BRANCH_STATUS;

export const branchStatusOf = (code: number): BranchStatus =>
  (Object.entries(BRANCH_STATUS).find(([, c]) => c === code)?.[0] as BranchStatus) ?? "standalone";

/** The columns that put a new row on the session's current branch (LaminDB: `created_on` too). */
export const onCurrentBranch = (session: { branch: { id: number } }) => ({
  branchId: session.branch.id,
  createdOnId: session.branch.id,
});
