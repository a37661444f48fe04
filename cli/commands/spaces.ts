/**
 * `lamin create space NAME`, `lamin list space`: LaminDB's space commands. Saving into a space is
 * `lamin save FILE --space NAME`; who may see a space is decided on the hub
 * (`lamin hub collaborator space-add`). See docs/spaces.md.
 */
import { printJson, say, table } from "../output.js";
import { withTarget } from "../target.js";

interface Json {
  json?: boolean;
}

/** `lamin create space NAME [--description D]` (admins: a space decides who sees records). */
export async function createSpace(name: string, opts: Json & { description?: string }) {
  const space = await withTarget((t) =>
    t.spaces.create(name, opts.description !== undefined ? { description: opts.description } : {}),
  );
  if (opts.json) return printJson(space);
  say(
    `created space ${space.name} (uid ${space.uid}); save into it: lamin save FILE --space ${space.name}`,
  );
}

/** `lamin list space`: the spaces you may see, `all` first. */
export async function listSpaces(opts: Json) {
  const spaces = await withTarget((t) => t.spaces.list());
  if (opts.json) return printJson(spaces);
  say(
    table(
      ["name", "uid", "created by", "description"],
      spaces.map((s) => [s.name, s.uid, s.created_by ?? "", s.description ?? ""]),
    ),
  );
}
