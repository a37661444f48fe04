/** Project (uid 12): an exact name match returns the existing project (LaminDB's `search_names`). */
import * as t from "../../db/schema.js";
import { ValidationError } from "../../errors.js";
import { randomBase62, UID_LENGTHS } from "../../uid.js";
import { LOCK } from "../locks.js";
import {
  type CreateResult,
  common,
  created,
  firstNamed,
  type Keyed,
  MAX_DESCRIPTION,
  plainUids,
  RecordRegistry,
  type Spec,
  selectTracked,
  type Tracked,
  tracked,
} from "./base.js";
import { isHttpUrl, requiredName, text } from "./checks.js";

export interface Project extends Tracked {
  uid: string;
  name: string;
  abbr: string | null;
  url: string | null;
  description: string | null;
}

export interface ProjectInput {
  name: string;
  abbr?: string | null;
  url?: string | null;
  description?: string | null;
}

const p = t.project;
const PROJECT_SPEC: Spec = {
  name: "project",
  plural: "projects",
  table: p,
  fields: {
    ...common(p),
    name: { column: p.name, type: "string" },
    abbr: { column: p.abbr, type: "string" },
    url: { column: p.url, type: "string" },
    description: { column: p.description, type: "string" },
  },
  ...plainUids("project", UID_LENGTHS.project),
};
export const PROJECT_FILTER_FIELDS = Object.keys(PROJECT_SPEC.fields);

type ProjectSelected = Keyed<typeof t.project.$inferSelect>;

export class Projects extends RecordRegistry<ProjectSelected, Project> {
  protected readonly spec = PROJECT_SPEC;

  protected select() {
    return selectTracked(this.db, p);
  }

  protected toPublic(s: ProjectSelected): Project {
    const r = s.row;
    return {
      uid: r.uid,
      name: r.name,
      abbr: r.abbr,
      url: r.url,
      description: r.description,
      ...tracked(s),
    };
  }

  /** Create a project; one of the same name is returned. */
  async create(input: ProjectInput): Promise<CreateResult<Project>> {
    const name = requiredName(input?.name, "project", 255, "Lung atlas");
    const abbr = text(input.abbr, "abbr", 32);
    const url = text(input.url, "url", 255);
    if (url !== null && !isHttpUrl(url)) {
      throw new ValidationError(
        `invalid url ${JSON.stringify(url.slice(0, 100))}`,
        "give an http(s) URL, e.g. https://example.org/projects/lung-atlas",
      );
    }
    const description = text(input.description, "description", MAX_DESCRIPTION);
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
