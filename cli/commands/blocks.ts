/**
 * `lamin readme show|set` and `lamin block list|comment|edit|delete`: the instance's README (a
 * block with key README.md) and the readmes and comments of records (`--artifact UID`,
 * `--transform UID`, ... one option per registry with blocks), in process or through the
 * instance's server (cli/target.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { NotFoundError, ValidationError } from "../../core/errors.js";
import { BLOCK_OWNER_NAMES } from "../../core/registry/blocks/block-owners.js";
import type { RecordBlock } from "../../core/registry/blocks/record-blocks.js";
import type { Page } from "../../core/registry/model/paging.js";
import type { CreateResult } from "../../core/registry/records/base.js";
import type { Block } from "../../core/registry/records/blocks.js";
import { note, printJson, say, table } from "../output.js";
import { withTarget } from "../target.js";

interface Json {
  json?: boolean;
}
/** `--artifact UID`, `--branch NAME`, ...: which record the blocks belong to. */
type OwnerOptions = Partial<Record<string, string | boolean | undefined>>;

/** The record an option names, or undefined for the instance's own blocks. */
function ownerOf(opts: OwnerOptions): { registry: string; uid: string } | undefined {
  const given = BLOCK_OWNER_NAMES.filter((name) => typeof opts[name] === "string");
  if (given.length > 1) {
    throw new ValidationError(
      `name one record, got --${given.join(" and --")}`,
      "e.g. lamin readme show --artifact UID",
    );
  }
  const [registry] = given;
  return registry ? { registry, uid: opts[registry] as string } : undefined;
}

/** The markdown of a command: a file, or --text; one of them. */
function contentOf(file: string | undefined, text: string | undefined): string {
  if (file !== undefined && text !== undefined) {
    throw new ValidationError("give a FILE or --text, not both", "e.g. lamin readme set README.md");
  }
  if (text !== undefined) return text;
  if (file === undefined) {
    throw new ValidationError(
      "what should it say? give a FILE or --text",
      "e.g. lamin readme set README.md",
    );
  }
  const info = existsSync(file) ? statSync(file) : undefined;
  if (!info?.isFile()) {
    throw new ValidationError(
      `cannot read ${file}: ${info ? "not a regular file" : "no such file"}`,
      "give the path of a markdown file, or the text with --text",
    );
  }
  return readFileSync(file, "utf8");
}

const VERB = {
  created: "created",
  "new-version": "new version",
  existing: "exists:",
  restored: "restored",
};

const firstLine = (content: string) => {
  const line = content.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
};

export async function readmeShow(opts: Json & OwnerOptions) {
  const owner = ownerOf(opts);
  const found = await withTarget<RecordBlock | Block | null>((ln) =>
    owner ? ln.ablocks.readme(owner.registry, owner.uid) : ln.blocks.readme(),
  );
  if (!found) {
    const where = owner ? ` --${owner.registry} ${owner.uid}` : "";
    throw new NotFoundError(
      `no README ${owner ? `of ${owner.registry} ${owner.uid}` : "of the instance"} yet`,
      `write one with lamin readme set FILE${where}`,
    );
  }
  if (opts.json) return printJson(found);
  process.stdout.write(found.content.endsWith("\n") ? found.content : `${found.content}\n`);
}

export async function readmeSet(
  file: string | undefined,
  opts: Json & OwnerOptions & { text?: string; versionTag?: string },
) {
  const owner = ownerOf(opts);
  const content = contentOf(file, opts.text);
  const tag = opts.versionTag !== undefined ? { version_tag: opts.versionTag } : {};
  const r = await withTarget<CreateResult<RecordBlock | Block>>((ln) =>
    owner
      ? ln.ablocks.add(owner.registry, owner.uid, { kind: "readme", content, ...tag })
      : ln.blocks.setReadme(content, tag),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  const of = owner ? `of ${owner.registry} ${owner.uid}` : "of the instance";
  say(`${VERB[r.status]} README ${of} -> ${r.record.uid} (version ${r.record.version})`);
  if (r.note) note(r.note);
}

export async function blockList(
  opts: Json & OwnerOptions & { kind?: "readme" | "comment"; allVersions?: boolean; limit: string },
) {
  const owner = ownerOf(opts);
  const limit = Number(opts.limit);
  const page = await withTarget<Page<RecordBlock | Block>>((ln) =>
    owner
      ? ln.ablocks.list(owner.registry, owner.uid, {
          limit,
          ...(opts.kind ? { kind: opts.kind } : {}),
          ...(opts.allVersions ? { allVersions: true } : {}),
        })
      : ln.blocks.list({
          limit,
          filter: opts.allVersions ? {} : { is_latest: true },
        }),
  );
  if (opts.json) return printJson(page.items);
  if (page.items.length === 0) return say("no blocks");
  const rows = page.items.map((b) => [
    b.uid,
    "registry" in b ? b.kind : (b.key ?? ""),
    b.version,
    b.created_by,
    b.created_at.slice(0, 19),
    firstLine(b.content),
  ]);
  say(table(["uid", owner ? "kind" : "key", "version", "by", "at", "content"], rows));
  if (page.nextCursor) note(`(showing the first ${limit}; raise --limit to see more)`);
}

export async function blockComment(
  file: string | undefined,
  opts: Json & OwnerOptions & { text?: string; line?: string },
) {
  const owner = ownerOf(opts);
  if (!owner) {
    throw new ValidationError(
      "which record does the comment belong to?",
      `name it with one of --${BLOCK_OWNER_NAMES.join(", --")}, e.g. --artifact UID`,
    );
  }
  const line = opts.line === undefined ? undefined : Number(opts.line);
  if (line !== undefined && !Number.isSafeInteger(line)) {
    throw new ValidationError(`--line must be a line number, got '${opts.line}'`, "e.g. --line 12");
  }
  const content = contentOf(file, opts.text);
  const r = await withTarget((ln) =>
    ln.ablocks.add(owner.registry, owner.uid, {
      kind: "comment",
      content,
      ...(line !== undefined ? { line_number: line } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(`created comment on ${owner.registry} ${owner.uid} -> ${r.record.uid}`);
}

export async function blockEdit(
  block: string,
  file: string | undefined,
  opts: Json & OwnerOptions & { text?: string; versionTag?: string },
) {
  const owner = ownerOf(opts);
  const content = contentOf(file, opts.text);
  const tag = opts.versionTag !== undefined ? { version_tag: opts.versionTag } : {};
  const r = await withTarget<CreateResult<RecordBlock | Block>>((ln) =>
    owner
      ? ln.ablocks.edit(owner.registry, owner.uid, block, { content, ...tag })
      : ln.blocks.create({ revises: block, content, ...tag }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(
    r.status === "new-version"
      ? `new version of ${block} -> ${r.record.uid} (version ${r.record.version})`
      : `${r.status === "existing" && !owner ? "exists:" : "edited"} ${r.record.uid}`,
  );
  if (r.note) note(r.note);
}

export async function blockDelete(
  block: string,
  opts: Json & OwnerOptions & { permanent?: boolean },
) {
  const owner = ownerOf(opts);
  const gone = await withTarget<RecordBlock | Block>((ln) =>
    owner
      ? ln.ablocks.delete(owner.registry, owner.uid, block)
      : ln.blocks.delete(block, { permanent: opts.permanent === true }),
  );
  if (opts.json) return printJson(gone);
  say(
    owner || opts.permanent
      ? `deleted block ${gone.uid}`
      : `moved block ${gone.uid} to the trash (--permanent deletes it for good)`,
  );
}
