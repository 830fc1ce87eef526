// The REST API's request and response shapes, in zod: the route handlers parse with them and the OpenAPI description
// (lib/http/openapi) is generated from them, so the two cannot drift apart.
import { z } from "zod";

export const triggerRequest = z
  .object({
    /** Needed when the installation has several environments. */
    environment: z.string().min(1).max(40).optional(),
    /** Table names; absent or empty: every enabled table. */
    tables: z.array(z.string().min(1)).max(500).optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();

export const triggerAccepted = z.object({ runId: z.string() });

export const errorBody = z.object({ error: z.string() }).loose();

export const RUN_STATUSES = ["awaiting_approval", "queued", "running", "succeeded", "failed", "partial", "cancelled", "interrupted", "rejected", "expired"] as const;
/** A run that will not change any more. */
export const FINAL_STATUSES: readonly string[] = ["succeeded", "failed", "partial", "cancelled", "interrupted", "rejected", "expired"];

export const runState = z
  .object({
    id: z.string(),
    environment: z.string(),
    status: z.enum(RUN_STATUSES),
    trigger: z.enum(["cli", "web", "schedule"]),
    triggeredBy: z.string(),
    dryRun: z.boolean(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
    rowsCommitted: z.number(),
    tables: z.array(
      z
        .object({
          table: z.string(),
          status: z.string(),
          ended: z.string(),
          rowsCommitted: z.number(),
          verification: z.string().nullable(),
          error: z.string().nullable(),
          // The plan (a dry run's whole outcome).
          strategy: z.string().optional(),
          configuredMode: z.string().nullable().optional(),
          mode: z.string().nullable().optional(),
          modeReason: z.string().nullable().optional(),
          rowsExpected: z.number().nullable().optional(),
          rowsEstimated: z.boolean().optional(),
          verificationPlan: z.string().nullable().optional(),
        })
        .loose(),
    ),
  })
  .loose();

export const cancelAccepted = z.object({ cancelled: z.string(), outcome: z.enum(["cancelled", "requested"]) });

export const environmentStatus = z
  .object({
    environment: z.string(),
    connections: z.array(z.object({ role: z.string(), ok: z.boolean() }).loose()),
    tables: z.array(z.object({ name: z.string(), lag: z.string().nullable() }).loose()),
    checkedAt: z.string(),
  })
  .loose();
