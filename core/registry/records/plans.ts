/**
 * A run's or a transform's plan (LaminDB 2.9's `plan`, typically an agent's plan saved as an
 * artifact): named as `ln.track(plan=...)` names it, by the artifact's uid or key.
 */
import { NotFoundError, ValidationError } from "../../errors.js";
import type { Instance } from "../../instance.js";
import type { Artifact, ArtifactsApi } from "../artifacts/artifacts.js";
import { input } from "../model/model.js";

/** The `plan` input of a run or a transform. */
export const planInput = () =>
  input.string(1024, {
    doc: "uid (a 16-character stem: the latest version) or key of the artifact that is the plan",
    example: "plans/curate-dataset-x.md",
  });

const ARTIFACT_UID = /^[0-9A-Za-z]{16}([0-9A-Za-z]{4})?$/;

const unlessNotFound = (e: unknown) => {
  if (e instanceof NotFoundError) return undefined;
  throw e;
};

/**
 * The artifact `ref` names (LaminDB: `Artifact.filter(Q(key=plan) | Q(uid=plan))`): a uid
 * first, else a key's latest version; in process or on a server. One in the trash is refused.
 */
export async function findPlan(
  artifacts: Pick<ArtifactsApi, "get">,
  ref: string,
): Promise<Artifact> {
  const found =
    (ARTIFACT_UID.test(ref)
      ? await artifacts.get({ uid: ref }).catch(unlessNotFound)
      : undefined) ?? (await artifacts.get({ key: ref }).catch(unlessNotFound));
  if (!found) {
    throw new ValidationError(
      `plan artifact '${ref.slice(0, 200)}' not found`,
      "save the plan first (lamin save plan.md --key plans/plan.md), then pass its key or uid",
    );
  }
  if (found.branch === "trash") {
    throw new ValidationError(
      `plan ${found.uid} is in the trash`,
      `restore it first (lamin restore ${found.uid}) or pass another plan`,
    );
  }
  return found;
}

/** The id of the plan `ref` names (see findPlan), or null without one. */
export async function planId(instance: Instance, ref: string | null): Promise<number | null> {
  if (ref === null) return null;
  const plan = await findPlan(instance.artifacts, ref);
  return (await instance.artifacts.row({ uid: plan.uid })).id;
}
