// The OpenAPI 3.1 description of the REST API pipelines use, generated from the same zod schemas the handlers parse
// with (lib/http/api). Served at /api/openapi.json; the CLI's --api mode finds its operations in it.
import { z } from "zod";
import { cancelAccepted, environmentStatus, errorBody, runState, triggerAccepted, triggerRequest } from "./api";

const json = (schema: z.ZodType, io: "input" | "output" = "output") => ({ "application/json": { schema: z.toJSONSchema(schema, { io, unrepresentable: "any" }) } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      {
        description: { 400: "invalid request (field paths in `issues`)", 401: "no valid session or token", 403: "the caller's role or scope does not allow it (audited)", 404: "no such run", 409: "a table is busy, the run has finished (a cancel) or has not (a retry), or the environment is in a blackout window" }[c],
        content: json(errorBody),
      },
    ]),
  );
const envParam = { name: "env", in: "query", required: false, description: "needed when the installation has several environments", schema: { type: "string" } } as const;
const runId = { name: "id", in: "path", required: true, schema: { type: "string" } };

export function openApiDocument(serverUrl?: string) {
  return {
    openapi: "3.1.0",
    info: { title: "UAT Refresh API", version: "1", description: "Trigger, follow, cancel and retry refreshes of an environment. Authenticate with a service token (Admin > Tokens) as `Authorization: Bearer <token>`." },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: { securitySchemes: { token: { type: "http", scheme: "bearer" } } },
    security: [{ token: [] }],
    paths: {
      "/api/status": {
        get: {
          operationId: "getStatus",
          summary: "An environment's tables: both sides' figures, lag, last run",
          parameters: [envParam],
          responses: { "200": { description: "the environment's status", content: json(environmentStatus) }, ...errors(400, 401, 403) },
        },
      },
      "/api/runs": {
        post: {
          operationId: "triggerRun",
          summary: "Trigger a refresh (queued; or awaiting approval where the environment requires one)",
          parameters: [{ ...envParam, description: `${envParam.description} (or \`environment\` in the body)` }],
          requestBody: { required: true, content: json(triggerRequest, "input") },
          responses: { "202": { description: "accepted: follow it with getRun", content: json(triggerAccepted) }, ...errors(400, 401, 403, 409) },
        },
      },
      "/api/runs/{id}": {
        get: {
          operationId: "getRun",
          summary: "A run's state and outcome",
          parameters: [runId],
          responses: { "200": { description: "the run", content: json(runState) }, ...errors(401, 403, 404) },
        },
      },
      "/api/runs/{id}/cancel": {
        post: {
          operationId: "cancelRun",
          summary: "Cancel a queued run, or stop a running one (its open transactions roll back)",
          parameters: [runId],
          requestBody: { required: false, content: json(z.object({}).strict(), "input") },
          responses: { "202": { description: "cancelled, or a stop requested", content: json(cancelAccepted) }, ...errors(401, 403, 404, 409) },
        },
      },
      "/api/runs/{id}/retry": {
        post: {
          operationId: "retryRun",
          summary: "Refresh again the tables of an ended run that did not succeed (failed, skipped, never reached), in its environment, as the same kind of run",
          parameters: [runId],
          requestBody: { required: false, content: json(z.object({}).strict(), "input") },
          responses: { "202": { description: "accepted: follow the new run with getRun", content: json(triggerAccepted) }, ...errors(400, 401, 403, 404, 409) },
        },
      },
    },
  };
}
