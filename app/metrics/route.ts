// Prometheus metrics behind a bearer token (UAT_REFRESH_METRICS_TOKEN): without the variable the endpoint is off.
import { timingSafeEqual } from "node:crypto";
import { connection, NextResponse, type NextRequest } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { renderMetrics } from "@/lib/ops/metrics";

function authorized(req: NextRequest, token: string): boolean {
  const given = Buffer.from(req.headers.get("authorization")?.replace(/^Bearer /i, "") ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function GET(req: NextRequest) {
  await connection();
  const token = process.env.UAT_REFRESH_METRICS_TOKEN;
  if (!token) return NextResponse.json({ error: "metrics are off: set UAT_REFRESH_METRICS_TOKEN to turn them on" }, { status: 404 });
  if (!authorized(req, token)) return NextResponse.json({ error: "a bearer token is required" }, { status: 401, headers: { "www-authenticate": "Bearer" } });
  const { body, contentType } = await renderMetrics(metadata());
  return new NextResponse(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
}
