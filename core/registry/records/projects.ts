/**
 * Project (uid 12): an exact name match returns the existing project (LaminDB's `search_names`).
 * A project has parents and predecessors (hierarchies without cycles), start and end dates, and
 * links to the collections, features, schemas, transforms, ulabels, blocks, branches, records
 * (optionally for a feature), references and users (with a role) it annotates, as LaminDB's
 * Project has (models/project.py). Artifacts and runs join projects through their annotations
 * (`lamin annotate --project`).
 */
import type { PgColumn } from "drizzle-orm/pg-core";
import * as t from "../../db/schema.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { onCurrentBranch } from "../common/branch.js";
import { LOCK } from "../common/locks.js";
import { addLinks } from "../model/links.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  type ManyField,
  ModelRegistry,
  type PublicOf,
} from "../model/model.js";
import { type CreateResult, created, firstNamed, MAX_DESCRIPTION } from "./base.js";
import { checkCalendarDate, DATE_PATTERN } from "./checks.js";

const p = t.project;
/** A project, named by uid or name (a uid wins). */
const byUidOrName = ["uid", "name"];
/** `<registry>project` links: the registry's row is the owner, the project the label. */
const annotates = (
  link: typeof t.collectionProject,
  target: Parameters<typeof field.many>[3],
  doc: string,
  match?: string[],
) =>
  field.many(link, link.labelId, link.ownerId, target, {
    doc,
    write: {},
    ...(match ? { match } : {}),
  });

export const ProjectModel = defineRegistry({
  name: "project",
  plural: "projects",
  doc: "Projects that artifacts, runs and records belong to",
  table: p,
  uid: { length: UID_LENGTHS.project, example: "t3ePz0hUl2kR" },
  fields: {
    uid: field.column(p.uid, { example: "t3ePz0hUl2kR" }),
    name: field.column(p.name, { example: "Lung atlas" }),
    abbr: field.column(p.abbr),
    url: field.column(p.url),
    description: field.column(p.description),
    start_date: field.column(p.startDate, { doc: "when the project started (YYYY-MM-DD)" }),
    end_date: field.column(p.endDate, { doc: "when the project ended (YYYY-MM-DD)" }),
    parents: field.many(t.projectParents, t.projectParents.fromId, t.projectParents.toId, p, {
      doc: "uids of the super-projects that own this one (no cycles)",
      match: byUidOrName,
      write: { acyclic: true },
    }),
    predecessors: field.many(
      t.projectPredecessors,
      t.projectPredecessors.fromId,
      t.projectPredecessors.toId,
      p,
      {
        doc: "uids of the projects this one requires (no cycles)",
        match: byUidOrName,
        write: { acyclic: true },
      },
    ),
    collections: annotates(t.collectionProject, t.collection, "uids of its collections"),
    features: annotates(t.featureProject, t.feature, "uids of its features"),
    schemas: annotates(t.schemaProject, t.schema, "uids of its schemas"),
    transforms: annotates(t.transformProject, t.transform, "uids of its transforms"),
    ulabels: annotates(t.ulabelProject, t.ulabel, "uids of its ulabels"),
    blocks: annotates(t.blockProject, t.block, "uids of its blocks"),
    branches: annotates(
      t.branchProject,
      t.branch,
      "uids of its branches (named by uid or name)",
      byUidOrName,
    ),
    records: field.many(
      t.projectRecord,
      t.projectRecord.ownerId,
      t.projectRecord.labelId,
      t.record,
      {
        doc: "its records, each with the feature it is linked for (null: none)",
        columns: {
          feature: {
            column: t.projectRecord.featureId as PgColumn,
            input: input.string(255, { doc: "name or uid of a feature" }),
            feature: true,
          },
        },
        write: {},
      },
    ),
    references: field.many(
      t.projectReferences,
      t.projectReferences.fromId,
      t.projectReferences.toId,
      t.reference,
      { doc: "uids of its references", write: {} },
    ),
    users: field.many(t.projectUser, t.projectUser.projectId, t.projectUser.userId, t.user, {
      doc: "its users (named by uid or handle) and their roles, e.g. responsible, viewer; a project role grants no access to the instance",
      via: "handle",
      match: ["uid", "handle"],
      columns: {
        role: {
          column: t.projectUser.role,
          input: input.required(input.string(32, { example: "responsible" })),
        },
      },
      write: {},
    }),
  },
  filters: { _status_code: { column: p.statusCode, type: "integer" } },
  inputs: {
    name: input.required(input.string(255, { example: "Lung atlas" })),
    abbr: input.string(32),
    url: input.string(255, { format: "url", example: "https://example.org" }),
    description: input.string(MAX_DESCRIPTION),
    start_date: input.string(10, { pattern: DATE_PATTERN, example: "2024-01-15" }),
    end_date: input.string(10, { pattern: DATE_PATTERN, example: "2024-12-31" }),
    parents: input.list(input.string(255), 100, {
      doc: "uids or names of parent projects; a cycle is refused",
    }),
  },
  search: ["name", "abbr"],
});
export const PROJECT_FILTER_FIELDS = Object.keys(ProjectModel.spec.fields);

export type Project = PublicOf<typeof ProjectModel>;
export type ProjectInput = InputOf<typeof ProjectModel>;

export class Projects extends ModelRegistry<typeof ProjectModel> {
  constructor(instance: Instance) {
    super(instance, ProjectModel);
  }

  /**
   * Create a project; one of the same name is returned. `parents` are linked to it either way
   * (a parent that would close a cycle is refused, and nothing is written).
   */
  async create(given: ProjectInput): Promise<CreateResult<Project>> {
    const { name, abbr, url, description, parents, ...dates } = this.model.check(given);
    checkCalendarDate(dates.start_date, "start_date");
    checkCalendarDate(dates.end_date, "end_date");
    return this.decide([[LOCK.project, name]], async (tx) => {
      const existing = await firstNamed(tx, p, { id: p.id }, name);
      const decision = existing
        ? { id: existing.id, status: "existing" as const }
        : created(
            await tx
              .insert(p)
              .values({
                uid: randomBase62(UID_LENGTHS.project),
                ...onCurrentBranch(this.instance),
                name,
                abbr,
                url,
                description,
                startDate: dates.start_date,
                endDate: dates.end_date,
                createdById: this.instance.user.id,
              })
              .returning({ id: p.id }),
          );
      const f = this.model.fields.parents as ManyField<unknown>;
      await addLinks(tx, this.instance, f, "parents", decision.id, parents ?? []);
      return decision;
    });
  }
}
