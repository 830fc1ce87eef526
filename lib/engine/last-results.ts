// What the dashboard and `--status` say about each table's history, read for every table of an environment in one
// query (a lateral look-up per table on the (tableName, startedAt) index), never three queries per table.
import type { Metadata } from "../metadata/client";

export interface LastResults {
  /** The last real refresh that ran (succeeded, failed or running), with its run's status. */
  last: { status: string; runStatus: string; finishedAt: Date | null; rowsCommitted: number; error: string | null; runId: string; mode: string | null } | null;
  /** The last one that succeeded. */
  lastGood: { watermarkAfter: string | null; mode: string | null; rowsCommitted: number } | null;
  /** Whether the last refresh that committed (succeeded, or failed its verification after the commit) was verified. */
  lastCommittedVerified: boolean | null | undefined;
}

interface Row {
  name: string;
  status: string | null;
  runStatus: string | null;
  finishedAt: Date | null;
  rowsCommitted: bigint | null;
  error: string | null;
  runId: string | null;
  mode: string | null;
  goodFound: boolean;
  goodWatermark: string | null;
  goodMode: string | null;
  goodRows: bigint | null;
  committedFound: boolean;
  committedVerified: boolean | null;
}

export async function lastResults(db: Metadata, environment: string, tables: string[]): Promise<Map<string, LastResults>> {
  if (!tables.length) return new Map();
  // ORDER BY "startedAt" DESC as Prisma orders it (NULLs first), over real runs of this environment only.
  const rows = await db.$queryRaw<Row[]>`
    SELECT n.name,
           l.status, l."runStatus", l."finishedAt", l."rowsCommitted", l.error, l."runId", l.mode,
           g.id IS NOT NULL AS "goodFound", g."watermarkAfter" AS "goodWatermark", g.mode AS "goodMode", g."rowsCommitted" AS "goodRows",
           c.id IS NOT NULL AS "committedFound", c.verified AS "committedVerified"
    FROM unnest(${tables}::text[]) AS n(name)
    LEFT JOIN LATERAL (
      SELECT tr.status::text AS status, r.status::text AS "runStatus", tr."finishedAt", tr."rowsCommitted", tr.error, tr."runId", tr.mode
      FROM "TableResult" tr JOIN "RefreshRun" r ON r.id = tr."runId"
      WHERE tr."tableName" = n.name AND r.environment = ${environment} AND NOT r."dryRun" AND tr.status::text IN ('succeeded', 'failed', 'running')
      ORDER BY tr."startedAt" DESC LIMIT 1) l ON true
    LEFT JOIN LATERAL (
      SELECT tr.id, tr."watermarkAfter", tr.mode, tr."rowsCommitted"
      FROM "TableResult" tr JOIN "RefreshRun" r ON r.id = tr."runId"
      WHERE tr."tableName" = n.name AND r.environment = ${environment} AND NOT r."dryRun" AND tr.status::text = 'succeeded'
      ORDER BY tr."startedAt" DESC LIMIT 1) g ON true
    LEFT JOIN LATERAL (
      SELECT tr.id, tr.verified
      FROM "TableResult" tr JOIN "RefreshRun" r ON r.id = tr."runId"
      WHERE tr."tableName" = n.name AND r.environment = ${environment} AND NOT r."dryRun" AND (tr.status::text = 'succeeded' OR tr.verified = false)
      ORDER BY tr."startedAt" DESC LIMIT 1) c ON true`;
  return new Map(
    rows.map((r) => [
      r.name,
      {
        last: r.status ? { status: r.status, runStatus: r.runStatus!, finishedAt: r.finishedAt, rowsCommitted: Number(r.rowsCommitted ?? 0), error: r.error, runId: r.runId!, mode: r.mode } : null,
        lastGood: r.goodFound ? { watermarkAfter: r.goodWatermark, mode: r.goodMode, rowsCommitted: Number(r.goodRows ?? 0) } : null,
        lastCommittedVerified: r.committedFound ? r.committedVerified : undefined,
      },
    ]),
  );
}
