/**
 * `lamin feature | ulabel | project | record create/list`, `lamin annotate`, `lamin search`: features
 * and labels of the current instance, in process or through its server (cli/target.ts).
 */
import { ValidationError } from "../../core/errors.js";
import type { Annotation, Owner } from "../../core/registry/annotations/annotations.js";
import { parseFilterArgs } from "../../core/registry/model/query.js";
import { note, printJson, say, table } from "../output.js";
import { type Target, withTarget as withInstance } from "../target.js";
import { refFrom } from "./artifacts.js";

interface Json {
  json?: boolean;
}

const VERB = {
  created: "created",
  "new-version": "created",
  existing: "exists:",
  restored: "restored",
};

export async function featureCreate(
  name: string,
  opts: Json & { dtype: string; unit?: string; description?: string; notNullable?: boolean },
) {
  const r = await withInstance((ln) =>
    ln.features.create({
      name,
      dtype: opts.dtype,
      ...(opts.notNullable ? { nullable: false } : {}),
      ...(opts.unit !== undefined ? { unit: opts.unit } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(`${VERB[r.status]} feature ${r.record.name} (${r.record.dtype}) -> ${r.record.uid}`);
}

export async function ulabelCreate(
  name: string,
  opts: Json & { type?: string; isType?: boolean; parent?: string[]; description?: string },
) {
  const r = await withInstance((ln) =>
    ln.ulabels.create({
      name,
      ...(opts.type !== undefined ? { type: opts.type } : {}),
      ...(opts.isType ? { is_type: true } : {}),
      ...(opts.parent ? { parents: opts.parent } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(
    `${VERB[r.status]} ulabel ${r.record.name}${r.record.is_type ? " (a type)" : ""} -> ${r.record.uid}`,
  );
}

export async function projectCreate(
  name: string,
  opts: Json & {
    abbr?: string;
    url?: string;
    description?: string;
    parent?: string[];
    startDate?: string;
    endDate?: string;
  },
) {
  const r = await withInstance((ln) =>
    ln.projects.create({
      name,
      ...(opts.abbr !== undefined ? { abbr: opts.abbr } : {}),
      ...(opts.url !== undefined ? { url: opts.url } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
      ...(opts.parent ? { parents: opts.parent } : {}),
      ...(opts.startDate !== undefined ? { start_date: opts.startDate } : {}),
      ...(opts.endDate !== undefined ? { end_date: opts.endDate } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(`${VERB[r.status]} project ${r.record.name} -> ${r.record.uid}`);
}

export async function recordCreate(
  name: string,
  opts: Json & { type?: string; isType?: boolean; schema?: string; description?: string },
) {
  const r = await withInstance((ln) =>
    ln.records.create({
      name,
      ...(opts.type !== undefined ? { type: opts.type } : {}),
      ...(opts.isType ? { is_type: true } : {}),
      ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(
    `${VERB[r.status]} record ${r.record.name}${r.record.is_type ? " (a type)" : ""} -> ${r.record.uid}`,
  );
}

export async function referenceCreate(
  name: string,
  opts: Json & {
    abbr?: string;
    url?: string;
    doi?: string;
    pubmedId?: string;
    date?: string;
    text?: string;
    type?: string;
    isType?: boolean;
    description?: string;
  },
) {
  const pubmed = opts.pubmedId === undefined ? undefined : Number(opts.pubmedId);
  if (pubmed !== undefined && !Number.isSafeInteger(pubmed)) {
    throw new ValidationError(
      `--pubmed-id must be a number, got '${opts.pubmedId}'`,
      "e.g. --pubmed-id 12345678",
    );
  }
  const r = await withInstance((ln) =>
    ln.references.create({
      name,
      ...(opts.abbr !== undefined ? { abbr: opts.abbr } : {}),
      ...(opts.url !== undefined ? { url: opts.url } : {}),
      ...(opts.doi !== undefined ? { doi: opts.doi } : {}),
      ...(pubmed !== undefined ? { pubmed_id: pubmed } : {}),
      ...(opts.date !== undefined ? { date: opts.date } : {}),
      ...(opts.text !== undefined ? { text: opts.text } : {}),
      ...(opts.type !== undefined ? { type: opts.type } : {}),
      ...(opts.isType ? { is_type: true } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    }),
  );
  if (opts.json) return printJson({ ...r.record, status: r.status });
  say(`${VERB[r.status]} reference ${r.record.name} -> ${r.record.uid}`);
}

/** Registries whose records link to others through a relation (`lamin link`). */
const LINKABLE = ["references", "projects", "transforms", "blocks", "records"] as const;

/** A link as printed: a uid, or a link with columns as `uid (role=owner)`. */
const linkText = (entry: unknown) => {
  if (typeof entry !== "object" || entry === null) return String(entry);
  const [first, ...rest] = Object.entries(entry);
  const extra = rest
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return `${String(first?.[1])}${extra.length ? ` (${extra.join(", ")})` : ""}`;
};

/**
 * `lamin link|unlink REGISTRY UID RELATION UID...`: add or remove links of a record, with the
 * relation's link columns (`--role` of a project's users, `--feature` of its records, `--config`
 * of a transform's predecessors).
 */
export async function changeLinks(
  change: "link" | "unlink",
  registry: string,
  uid: string,
  relation: string,
  targets: string[],
  opts: Json & { role?: string; feature?: string; config?: string },
) {
  const plural = registry.endsWith("s") ? registry : `${registry}s`;
  if (!(LINKABLE as readonly string[]).includes(plural)) {
    throw new ValidationError(
      `cannot ${change} records of '${registry}'`,
      `registries with links: ${LINKABLE.map((r) => r.replace(/s$/, "")).join(", ")}`,
    );
  }
  let config: unknown;
  if (opts.config !== undefined) {
    try {
      config = JSON.parse(opts.config);
    } catch {
      throw new ValidationError("--config is not JSON", `e.g. --config '{"step": 2}'`);
    }
  }
  const values = {
    ...(opts.role !== undefined ? { role: opts.role } : {}),
    ...(opts.feature !== undefined ? { feature: opts.feature } : {}),
    ...(opts.config !== undefined ? { config } : {}),
  };
  const record = await withInstance<{ uid: string }>((ln) => {
    const r = ln[plural as (typeof LINKABLE)[number]] as unknown as Pick<
      Target["references"],
      "link" | "unlink"
    >;
    return change === "link"
      ? r.link(uid, relation, targets, values)
      : r.unlink(uid, relation, targets, values);
  });
  if (opts.json) return printJson(record);
  const now = (record as unknown as Record<string, unknown>)[relation];
  say(
    `${record.uid} ${relation}: ${Array.isArray(now) && now.length ? now.map(linkText).join(", ") : "(none)"}`,
  );
}

type Registry = "features" | "ulabels" | "projects" | "records" | "references";

/** `--limit` as a whole number. */
function limitOf(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit)) {
    throw new ValidationError(`--limit must be a whole number, got '${text}'`, "e.g. --limit 50");
  }
  return limit;
}

export async function listRecords(
  registry: Registry,
  opts: Json & { limit: string; features?: string[] },
) {
  const limit = limitOf(opts.limit);
  // records (as runs and artifacts) are also listed by their feature values
  const features = opts.features ? parseFilterArgs(opts.features) : undefined;
  const { page, typeNames } = await withInstance(async (ln) => {
    const page: { items: object[]; nextCursor?: string } =
      registry === "records" && features
        ? await ln.records.list({ limit, features })
        : await ln[registry].list({ limit });
    // a record's type is the uid of another record of the registry: show its name
    const typeUids = [
      ...new Set(
        page.items
          .map((r) => (r as { type?: unknown }).type)
          .filter((t): t is string => typeof t === "string"),
      ),
    ];
    const typeNames = new Map<string, string>();
    if (!opts.json && registry !== "features" && typeUids.length > 0) {
      const types = await ln[registry].list({
        filter: { uid__in: typeUids.join(",") },
        limit: typeUids.length,
      });
      for (const t of types.items as { uid: string; name?: string | null }[]) {
        typeNames.set(t.uid, t.name ?? t.uid);
      }
    }
    return { page, typeNames };
  });
  if (opts.json) return printJson(page.items);
  if (page.items.length === 0) return say(`no ${registry}`);
  const rows = page.items.map((r) => {
    const x = r as unknown as Record<string, unknown>;
    const detail =
      registry === "features"
        ? String(x.dtype ?? "")
        : x.is_type
          ? "(is a type)"
          : typeof x.type === "string"
            ? (typeNames.get(x.type) ?? x.type)
            : "";
    return [String(x.uid), String(x.name ?? ""), detail];
  });
  say(table(["uid", "name", registry === "features" ? "dtype" : "type"], rows));
  if (page.nextCursor) note(`(showing the first ${limit}; raise --limit to see more)`);
}

/** `name=value` pairs as typed; a value may contain '=' after the first. */
export function parsePairs(pairs: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new ValidationError(
        `'${pair}' is not of the form feature=value`,
        "e.g. --features temperature=37.5 cell_type=T-cell",
      );
    }
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const prev = out[name];
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

function annotationLines(uid: string, a: Annotation): string[] {
  const lines = [`${uid}`];
  for (const [name, value] of Object.entries(a.features)) {
    lines.push(`  ${name} = ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  if (a.ulabels.length) lines.push(`  ulabels: ${a.ulabels.join(", ")}`);
  if (a.projects.length) lines.push(`  projects: ${a.projects.join(", ")}`);
  if (a.records.length) lines.push(`  records: ${a.records.join(", ")}`);
  if (lines.length === 1) lines.push("  (no features or labels)");
  return lines;
}

export async function annotate(
  given: string | undefined,
  opts: Json & {
    key?: string;
    features?: string[];
    ulabel?: string[];
    project?: string[];
    record?: string[];
    remove?: string[];
    run?: boolean;
    registry?: Owner;
  },
) {
  if (opts.run && opts.registry !== undefined && opts.registry !== "run") {
    throw new ValidationError(
      `--run and --registry ${opts.registry} name different registries`,
      "give one of them",
    );
  }
  const owner: Owner = opts.run ? "run" : (opts.registry ?? "artifact");
  const values = parsePairs(opts.features ?? []);
  const labels = {
    ...(opts.ulabel ? { ulabels: opts.ulabel } : {}),
    ...(opts.project ? { projects: opts.project } : {}),
    ...(opts.record ? { records: opts.record } : {}),
  };
  if (owner !== "artifact" && (given === undefined || opts.key !== undefined)) {
    throw new ValidationError(
      `give the ${owner}'s uid (--key names artifacts)`,
      owner === "run" ? "find it with `lamin run ls`" : "find it with `lamin record list`",
    );
  }
  // a key names the latest version of an artifact; checked before the instance is opened
  const ref = owner !== "artifact" ? { uid: given as string } : refFrom(given, opts);
  let uid = "uid" in ref ? ref.uid : "";
  const result = await withInstance(async (ln) => {
    if ("key" in ref) uid = (await ln.artifacts.get(ref)).uid;
    const nothing =
      Object.keys(values).length === 0 && Object.keys(labels).length === 0 && !opts.remove?.length;
    return nothing
      ? ln.annotations.get(owner, uid)
      : ln.annotations.add(owner, uid, values, labels, {
          fromText: true,
          ...(opts.remove ? { removeFirst: opts.remove } : {}),
        });
  });
  if (opts.json) return printJson({ uid, ...result });
  say(annotationLines(uid, result).join("\n"));
}

/** `lamin record sheet TYPE`: the records of a type with their feature values, as rows. */
export async function recordSheet(type: string, opts: Json & { limit: string }) {
  const limit = limitOf(opts.limit);
  const sheet = await withInstance((ln) => ln.records.sheet(type, { limit }));
  if (opts.json) return printJson(sheet);
  if (sheet.rows.length === 0) return say(`no records of type ${sheet.name ?? sheet.type}`);
  const shown = (v: unknown) =>
    v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
  say(
    table(
      ["uid", "name", ...sheet.columns],
      sheet.rows.map((r) => [
        r.uid,
        r.name ?? "",
        ...sheet.columns.map((c) => shown(r.features[c])),
      ]),
    ),
  );
  if (sheet.truncated) note(`(showing the first ${limit} records; raise --limit to see more)`);
}

export async function searchCommand(
  registry: string,
  text: string,
  opts: Json & { limit: string },
) {
  const limit = Number(opts.limit);
  const hits = await withInstance((ln) => ln.search(registry, text, { limit }));
  if (opts.json) return printJson(hits);
  if (hits.length === 0) return say("no matches");
  say(
    table(
      ["uid", "score", "name"],
      hits.map((h) => [h.uid, String(h.score), h.name ?? ""]),
    ),
  );
}
