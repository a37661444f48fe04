/**
 * `lamin create space NAME`, `lamin list space`, `lamin switch --space NAME`: LaminDB's space
 * commands. Saving into a space is `lamin save FILE --space NAME` (or after `lamin switch
 * --space`); who may see a space is decided on the hub (`lamin collaborator space-add`). See
 * docs/spaces.md.
 */
import { ValidationError } from "../../core/errors.js";
import { resolveInstanceSettings, saveInstanceSettings } from "../../core/settings.js";
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

/**
 * `lamin switch --space NAME`: later saves of this machine go to that space (LaminDB's
 * `ln.setup.settings.space`), kept in the instance's settings; `all` goes back to the default.
 */
export async function switchSpace(name: string | undefined, opts: Json & { create?: boolean }) {
  if (opts.create) {
    throw new ValidationError(
      "-c creates branches, not spaces",
      "create a space with lamin create space NAME (admins), then lamin switch --space NAME",
    );
  }
  if (!name) {
    throw new ValidationError("which space? name it", "e.g. lamin switch --space lab-a");
  }
  const settings = resolveInstanceSettings();
  const space = await withTarget((t) => t.spaces.get(name));
  const { space: _previous, ...rest } = settings;
  saveInstanceSettings(space.uid === "aaaaaaaaaaaa" ? rest : { ...rest, space: space.name });
  if (opts.json) return printJson(space);
  say(`switched to space ${space.name}: later saves go there (lamin switch --space all to undo)`);
}
