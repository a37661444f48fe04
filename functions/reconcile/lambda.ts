/**
 * The reconcile functions of a deployed stage (sst.config.ts: `Reconcile` on a schedule, and
 * `ReconcileWorker`): one bundle, two roles, told apart by the event. See ./handler.ts.
 */
import { once } from "../shared/once.js";
import { sstLinks } from "../shared/sst-links.js";
import { stageConfig } from "../shared/stage.js";
import { openStageHub } from "../shared/stage-hub.js";
import { createReconcileHandler, lambdaInvoke } from "./handler.js";

const reconciler = createReconcileHandler({
  stage: once(() => openStageHub(stageConfig(sstLinks))),
  invoke: lambdaInvoke(),
});

export const handler = (event: unknown) => reconciler.handle(event);
