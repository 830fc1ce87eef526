import { connection, NextResponse, type NextRequest } from "next/server";
import { audit, auditCsv, auditFiltersFrom } from "@/lib/audit";
import { metadata } from "@/lib/metadata/client";
import { requireApiRole } from "@/server/session";

export async function GET(req: NextRequest) {
  await connection();
  const user = await requireApiRole("viewer", "audit export");
  if (user instanceof NextResponse) return user;
  const filters = auditFiltersFrom(Object.fromEntries(req.nextUrl.searchParams));
  await audit({ actor: user.label, action: "audit.export", details: { filters: JSON.parse(JSON.stringify(filters)) } });
  const rows = auditCsv(metadata(), filters);
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    async pull(controller) {
      const { value, done } = await rows.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
  });
  return new Response(body, {
    headers: { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.csv"` },
  });
}
