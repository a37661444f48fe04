/** Project (uid 12): an exact name match returns the existing project (LaminDB's `search_names`). */
import * as t from "../../db/schema.js";
import type { Instance } from "../../instance.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { LOCK } from "../locks.js";
import {
  defineRegistry,
  field,
  type InputOf,
  input,
  ModelRegistry,
  type PublicOf,
} from "../model.js";
import { type CreateResult, created, firstNamed, MAX_DESCRIPTION } from "./base.js";

const p = t.project;
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
  },
  inputs: {
    name: input.required(input.string(255, { example: "Lung atlas" })),
    abbr: input.string(32),
    url: input.string(255, { format: "url", example: "https://example.org" }),
    description: input.string(MAX_DESCRIPTION),
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

  /** Create a project; one of the same name is returned. */
  async create(given: ProjectInput): Promise<CreateResult<Project>> {
    const { name, abbr, url, description } = this.model.check(given);
    return this.decide([[LOCK.project, name]], async (tx) => {
      const existing = await firstNamed(tx, p, { id: p.id }, name);
      if (existing) return { id: existing.id, status: "existing" };
      const uid = randomBase62(UID_LENGTHS.project);
      const createdById = this.instance.user.id;
      return created(
        await tx
          .insert(p)
          .values({ uid, name, abbr, url, description, createdById })
          .returning({ id: p.id }),
      );
    });
  }
}
