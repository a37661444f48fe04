/**
 * `lamin create branch`, `lamin switch [-c]`, `lamin list branch`, `lamin merge`, `lamin update
 * branch --status`: LaminDB's branch commands (lamin-cli's __main__.py). The current branch is
 * kept in the instance's settings on this machine; every later command writes to it and reads it
 * plus main, in process or through the instance's server (the `lamin-branch` header).
 */
import { ValidationError } from "../../core/errors.js";
import type { Branch } from "../../core/registry/branches.js";
import { resolveInstanceSettings, saveInstanceSettings } from "../../core/settings.js";
import { note, printJson, say, table } from "../output.js";
import { withTarget } from "../target.js";

interface Json {
  json?: boolean;
}

function show(branch: Branch, opts: Json, done: string): void {
  if (opts.json) printJson(branch);
  else say(done);
}

/** `lamin create branch NAME`: a new branch (the current one stays current). */
export async function createBranch(name: string, opts: Json & { description?: string }) {
  const branch = await withTarget((t) =>
    t.branches.create(
      name,
      opts.description !== undefined ? { description: opts.description } : {},
    ),
  );
  show(
    branch,
    opts,
    `created branch ${branch.name} (uid ${branch.uid}); switch to it: lamin switch ${branch.name}`,
  );
}

/** `lamin switch NAME` (`-c`: create it first): later commands write to it. */
export async function switchBranch(name: string | undefined, opts: Json & { create?: boolean }) {
  if (!name) {
    throw new ValidationError(
      "which branch? name it",
      "e.g. lamin switch main, lamin switch -c my_branch",
    );
  }
  const settings = resolveInstanceSettings();
  const branch = await withTarget(
    async (t) => {
      if (opts.create) await t.branches.create(name);
      await t.useBranch(name);
      return t.branches.get(name);
    },
    // the saved branch may be gone: switching away from it must still work
    { ignoreSavedBranch: true },
  );
  const { branch: _previous, ...rest } = settings;
  saveInstanceSettings(branch.name === "main" ? rest : { ...rest, branch: branch.name });
  if (opts.json) return printJson({ ...branch, current: true });
  if (opts.create) note(`created branch: ${branch.name}`);
  say(`switched to ${branch.name}`);
}

/** `lamin list branch`. */
export async function listBranches(opts: Json) {
  const branches = await withTarget((t) => t.branches.list());
  if (opts.json) return printJson(branches);
  say(
    table(
      ["", "name", "uid", "status", "created by", "description"],
      branches.map((b) => [
        b.current ? "*" : "",
        b.name,
        b.uid,
        b.status,
        b.created_by,
        b.description ?? "",
      ]),
    ),
  );
}

/** `lamin merge NAME`: merge it into the current branch. */
export async function mergeBranch(name: string, opts: Json & { target?: string }) {
  const result = await withTarget((t) =>
    t.branches.merge(name, opts.target !== undefined ? { target: opts.target } : {}),
  );
  if (opts.json) return printJson(result);
  const moved = Object.values(result.moved).reduce((a, b) => a + b, 0);
  say(
    `merged branch '${result.source}' into '${result.target}': ${moved} record${moved === 1 ? "" : "s"} moved${
      result.demoted
        ? `, ${result.demoted} older version${result.demoted === 1 ? "" : "s"} no longer the latest`
        : ""
    }`,
  );
}

/** `lamin update branch [--name NAME] --status STATUS`: without --name, the current branch. */
export async function updateBranch(
  opts: Json & { name?: string; uid?: string; status?: string; description?: string },
) {
  if (opts.status === undefined && opts.description === undefined) {
    throw new ValidationError(
      "nothing to update",
      "e.g. lamin update branch --status review, or --description TEXT",
    );
  }
  const branch = await withTarget((t) =>
    t.branches.update(opts.name ?? opts.uid ?? t.branch.name, {
      ...(opts.status !== undefined ? { status: opts.status } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  show(branch, opts, `branch ${branch.name}: ${branch.status}`);
}
