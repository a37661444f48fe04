/**
 * The scheduled reconcile of a deployed stage, in two parts so that no run is bounded by one
 * function's 15 minutes:
 * - the scheduler (EventBridge schedule, or `{ "action": "fan-out" }`) lists the instances whose
 *   storage is in the stage's bucket and hands each to the worker, asynchronously;
 * - the worker (`{ "instance": "owner/name" }`) reconciles that one instance: registers what the
 *   events missed, trashes what vanished (core/ingest/reconcile.ts).
 * Payloads are validated on both sides of the hand-off.
 */
import type * as LambdaSdk from "@aws-sdk/client-lambda";
import { z } from "zod";
import { type ReconcileReport, reconcile } from "../../core/ingest/reconcile.js";
import { requireAwsSdk } from "../../core/util/aws-sdk.js";
import { stageStorageRoot } from "../shared/stage.js";
import type { StageHub } from "../shared/stage-hub.js";

export const WorkerPayload = z
  .object({
    instance: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, "an instance slug, owner/name")
      .max(200),
    dryRun: z.boolean().default(false),
  })
  .strict();
export type WorkerPayload = z.infer<typeof WorkerPayload>;

/** What EventBridge Scheduler/Rules deliver, or an operator's manual run. */
const FanOut = z.union([
  z.object({ source: z.literal("aws.events"), "detail-type": z.literal("Scheduled Event") }),
  z.object({ action: z.literal("fan-out") }).strict(),
]);

/** Hands a payload to another function without waiting for it (Lambda `InvocationType: Event`). */
export type Invoke = (functionName: string, payload: WorkerPayload) => Promise<void>;

export interface ReconcileHandlerOptions {
  stage: () => Promise<StageHub>;
  invoke: Invoke;
  log?: (entry: Record<string, unknown>) => void;
}

export type ReconcileResult =
  | { action: "fan-out"; dispatched: string[] }
  | { action: "reconciled"; instance: string; summary: Record<string, number> }
  | { action: "rejected"; error: string };

const defaultLog = (entry: Record<string, unknown>) => console.log(JSON.stringify(entry));

export function createReconcileHandler(opts: ReconcileHandlerOptions) {
  const log = opts.log ?? defaultLog;

  async function fanOut(): Promise<ReconcileResult> {
    const stage = await opts.stage();
    const root = stageStorageRoot(stage.config);
    const worker = stage.config.reconcileWorker;
    if (!root || !worker) {
      throw new Error(
        "the reconcile scheduler needs the Storage bucket and ReconcileWorker linked",
      );
    }
    const records = await stage.hub.instancesBelow(`${root}/`);
    const dispatched: string[] = [];
    for (const record of records) {
      const payload = WorkerPayload.parse({ instance: `${record.owner}/${record.name}` });
      await opts.invoke(worker, payload);
      dispatched.push(payload.instance);
    }
    log({ level: "info", action: "fan-out", worker, dispatched: dispatched.length });
    return { action: "fan-out", dispatched };
  }

  async function work(payload: WorkerPayload): Promise<ReconcileResult> {
    const stage = await opts.stage();
    const [owner = "", name = ""] = payload.instance.split("/");
    const record = await stage.hub.instance(owner, name);
    const instance = await stage.instances.get(record);
    const report = await reconcile(instance, { dryRun: payload.dryRun });
    const summary = summarise(report);
    log({ level: "info", action: "reconciled", instance: payload.instance, ...summary });
    return { action: "reconciled", instance: payload.instance, summary };
  }

  return {
    /**
     * The Lambda entry. A payload that cannot be understood is answered, not thrown: retrying
     * it (Lambda retries async invocations twice) could not help. Operational errors throw.
     */
    async handle(event: unknown): Promise<ReconcileResult> {
      if (FanOut.safeParse(event).success) return fanOut();
      const payload = WorkerPayload.safeParse(event);
      if (!payload.success) {
        const error = `not a reconcile request: ${z.prettifyError(payload.error).replaceAll("\n", "; ")}`;
        log({ level: "error", action: "rejected", error });
        return { action: "rejected", error };
      }
      return work(payload.data);
    },
  };
}

function summarise(report: ReconcileReport): Record<string, number> {
  return {
    registered: report.registered.length,
    changed: report.changed.length,
    trashed: report.trashed.length,
    completed: report.completed.length,
    waiting: report.waiting.length,
    expired: report.expired.length,
    partial: report.partial.length,
    missingBytes: report.missingBytes.length,
    unclaimed: report.unclaimed.length,
    skipped: report.skipped.length,
    unchanged: report.unchanged,
  };
}

/** `Invoke` over `@aws-sdk/client-lambda`: validated, asynchronous, fails loudly if refused. */
export function lambdaInvoke(client?: LambdaSdk.LambdaClient): Invoke {
  return async (functionName, payload) => {
    const body = WorkerPayload.parse(payload);
    const sdk = requireAwsSdk<typeof LambdaSdk>("@aws-sdk/client-lambda");
    client ??= new sdk.LambdaClient({});
    const answer = await client.send(
      new sdk.InvokeCommand({
        FunctionName: functionName,
        InvocationType: "Event",
        Payload: new TextEncoder().encode(JSON.stringify(body)),
      }),
    );
    // an accepted asynchronous invocation answers 202
    if (answer.StatusCode !== 202) {
      throw new Error(
        `invoking ${functionName} for ${body.instance} answered ${answer.StatusCode ?? "nothing"}`,
      );
    }
  };
}
