import { NextResponse } from "next/server";
import { z } from "zod";
import { audit } from "@/lib/audit";
import { maskRuleSchema } from "@/lib/config/masking";
import { formatIssues, tableSchema } from "@/lib/config/schema";
import { exportConfig } from "@/lib/config/store";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { previewMasking } from "@/lib/engine/masking/preview";
import { metadata } from "@/lib/metadata/client";
import { requireMutation } from "@/server/session";
import { apiEnvironment } from "@/server/environment";
import { redact } from "@/lib/redact";

registerBuiltInDialects();

const body = z.object({ rules: z.array(maskRuleSchema).optional(), rows: z.number().int().min(1).max(20).optional() }).strict();

/** A few source rows before and after masking, with the table's rules or the ones being edited. Admins only: it
 *  shows production values. Computed on demand, never stored; every preview is audited (without values). */
export async function POST(req: Request, { params }: { params: Promise<{ name: string }> }) {
  const name = decodeURIComponent((await params).name);
  const user = await requireMutation(req, "admin", `preview masking of ${name}`);
  if (user instanceof NextResponse) return user;
  const parsed = body.safeParse(await req.json().catch(() => ({})));
  if (!parsed.success) return NextResponse.json({ error: formatIssues(parsed.error).join("; ") }, { status: 400 });
  const environment = await apiEnvironment(new URL(req.url).searchParams.get("env"));
  if (environment instanceof NextResponse) return environment;
  const config = await exportConfig(metadata(), environment);
  const current = config.tables.find((t) => t.name === name);
  if (!current) return NextResponse.json({ error: `no table config named ${name}` }, { status: 404 });
  const table = tableSchema.safeParse({ ...current, masking: parsed.data.rules ?? current.masking });
  if (!table.success) return NextResponse.json({ error: formatIssues(table.error).join("; ") }, { status: 400 });
  // The rules as they were tried, `sql` expressions word for word: what ran against production is on record.
  const rules = (table.data.masking ?? []).map((r) => ({ column: r.column, rule: r.rule, ...(r.expression !== undefined ? { expression: r.expression } : {}), saved: !parsed.data.rules }));
  try {
    const preview = await previewMasking(config, table.data, parsed.data.rows ?? 5);
    await audit({ actor: user.label, action: "masking.preview", environment, target: name, details: { rules, rows: preview.rows.length } });
    return NextResponse.json(preview, { headers: { "cache-control": "no-store" } });
  } catch (e) {
    await audit({ actor: user.label, action: "masking.preview", environment, target: name, outcome: "failed", details: { rules, error: (e as Error).message } });
    return NextResponse.json({ error: redact((e as Error).message) }, { status: 400 });
  }
}
