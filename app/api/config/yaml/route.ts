import { connection, NextResponse } from "next/server";
import { z } from "zod";
import { audit } from "@/lib/audit";
import { formatIssues } from "@/lib/config/schema";
import { exportConfig, exportInstallation } from "@/lib/config/store";
import { MAX_CONFIG_BYTES, stringifyConfig, stringifyInstallation } from "@/lib/config/yaml";
import { apiEnvironment } from "@/server/environment";
import { metadata } from "@/lib/metadata/client";
import { importConfiguration } from "@/server/config-import";
import { requireApiRole, requireMutation } from "@/server/session";

/** The whole installation as config.yaml (the original form while it is one environment), or with `?env=NAME` that
 *  environment in the original form (no secrets exist in it: only environment variable names). */
export async function GET(req: Request) {
  await connection();
  const user = await requireApiRole("admin", "export configuration");
  if (user instanceof NextResponse) return user;
  const asked = new URL(req.url).searchParams.get("env");
  const environment = asked ? await apiEnvironment(asked) : null;
  if (environment instanceof NextResponse) return environment;
  const yaml = environment ? stringifyConfig(await exportConfig(metadata(), environment)) : stringifyInstallation(await exportInstallation(metadata()));
  await audit({ actor: user.label, action: "config.export", environment });
  return new Response(yaml, { headers: { "Content-Type": "application/yaml; charset=utf-8", "Content-Disposition": 'attachment; filename="config.yaml"' } });
}

const body = z.object({ yaml: z.string(), apply: z.boolean().default(false), confirmConnections: z.boolean().default(false) }).strict();

/** Imports a configuration: `{ yaml, apply?, confirmConnections? }`. 413 above 1 MiB, 400 with every issue (field
 *  paths, YAML errors, alias bombs), 409 for a connection change not confirmed, else the diff (applied or not). */
export async function POST(req: Request) {
  const user = await requireMutation(req, "admin", "import configuration");
  if (user instanceof NextResponse) return user;
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > MAX_CONFIG_BYTES * 2) return NextResponse.json({ error: `a configuration may be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB` }, { status: 413 });
  const parsed = body.safeParse(await req.json().catch(() => null));
  if (!parsed.success) return NextResponse.json({ error: formatIssues(parsed.error).join("; ") }, { status: 400 });
  const r = await importConfiguration(user.label, parsed.data.yaml, { apply: parsed.data.apply, confirmConnections: parsed.data.confirmConnections, via: "api" });
  const { status, ...rest } = r;
  return NextResponse.json(rest, { status });
}
