import { connection, NextResponse } from "next/server";
import { exportConfig } from "@/lib/config/store";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { lockedTables } from "@/lib/engine/locks";
import { tableStatuses, testConnections } from "@/lib/engine/status";
import { metadata, metadataUrl } from "@/lib/metadata/client";
import { activeRuns } from "@/lib/runs";
import { requireApiRole } from "@/server/session";

registerBuiltInDialects();

export async function GET() {
  await connection();
  const user = await requireApiRole("viewer", "dashboard status");
  if (user instanceof NextResponse) return user;
  const db = metadata();
  const config = await exportConfig(db);
  const connections = await testConnections(config);
  const tables = connections.every((c) => c.ok) ? await tableStatuses(db, config) : [];
  const locked = await lockedTables(metadataUrl(), config.tables.map((t) => t.name));
  // A run row says "running" only while some process holds its tables' locks; otherwise it died and is stale.
  const running = (await activeRuns(db)).filter((r) => r.tables.some((t) => locked.has(t.tableName)));
  return NextResponse.json({
    target: { server: config.databases.target.server, database: config.databases.target.database, engine: config.databases.target.engine },
    source: { server: config.databases.source.server, database: config.databases.source.database, engine: config.databases.source.engine },
    connections,
    tables: tables.map((t) => ({ ...t, running: locked.has(t.name) })),
    active: running.map((r) => ({ id: r.id, triggeredBy: r.triggeredBy, trigger: r.trigger, startedAt: r.startedAt, tables: r.tables })),
    checkedAt: new Date().toISOString(),
  });
}
