import { connection, NextResponse } from "next/server";
import { audit } from "@/lib/audit";
import { exportConfig } from "@/lib/config/store";
import { stringifyConfig } from "@/lib/config/yaml";
import { metadata } from "@/lib/metadata/client";
import { requireApiRole } from "@/server/session";

/** The whole configuration as config.yaml (no secrets exist in it: only environment variable names). */
export async function GET() {
  await connection();
  const user = await requireApiRole("admin", "export configuration");
  if (user instanceof NextResponse) return user;
  const yaml = stringifyConfig(await exportConfig(metadata()));
  await audit({ actor: user.label, action: "config.export" });
  return new Response(yaml, { headers: { "Content-Type": "application/yaml; charset=utf-8", "Content-Disposition": 'attachment; filename="config.yaml"' } });
}
