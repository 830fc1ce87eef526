// Readiness: the metadata database and the run queue answer (503 otherwise). Unauthenticated, reveals nothing but
// which of the two is unavailable.
import { connection, NextResponse } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { readiness } from "@/lib/ops/health";

export async function GET() {
  await connection();
  const r = await readiness(metadata());
  return NextResponse.json(r, { status: r.ready ? 200 : 503, headers: { "cache-control": "no-store" } });
}
