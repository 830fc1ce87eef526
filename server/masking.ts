// Masking administration: every change to a table's masking rules or personal-data list goes through one function
// that validates it (the config schema, then the live catalogs, as a refresh would) and audits it with before/after.
import "server-only";
import { audit } from "@/lib/audit";
import { same, withFindings, type MaskingFields } from "@/lib/config/personal-data";
import { formatIssues, tableSchema } from "@/lib/config/schema";
import { exportConfig, rowToTable, tableToRow } from "@/lib/config/store";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { openSession } from "@/lib/engine/connections";
import { scanPii, type PiiFinding } from "@/lib/engine/pii";
import { checkAgainstCatalog } from "@/lib/engine/validate";
import { metadata } from "@/lib/metadata/client";

registerBuiltInDialects();

/** Validates and saves a table's new masking rules / personal-data list; errors are messages with field paths. */
export async function changeTableMasking(
  environment: string,
  name: string,
  change: (current: MaskingFields) => MaskingFields,
  audited: { actor: string; action: string; details?: Record<string, unknown> },
): Promise<{ errors: string[] }> {
  const db = metadata();
  const row = await db.tableConfig.findUnique({ where: { environment_name: { environment, name } } });
  if (!row) return { errors: [`no table config named ${name}`] };
  const current = rowToTable(row);
  const before: MaskingFields = { masking: current.masking, personal_data: current.personal_data };
  const next = change(structuredClone(before));
  const parsed = tableSchema.safeParse({ ...current, masking: next.masking?.length ? next.masking : undefined, personal_data: next.personal_data?.length ? next.personal_data : undefined });
  if (!parsed.success) return { errors: formatIssues(parsed.error) };
  const table = parsed.data;
  if (table.masking?.length || table.personal_data?.length) {
    const check = await checkAgainstCatalog(await exportConfig(db, environment), table);
    const issues = Object.values(check.issues);
    if (issues.length) return { errors: issues };
  }
  // Saved only if nobody changed the table since it was read (two admins, or a scan, at once): no lost update.
  const saved = await db.tableConfig.updateMany({ where: { id: row.id, updatedAt: row.updatedAt }, data: tableToRow(table, row.position) });
  if (saved.count === 0) return { errors: [`${name} was changed by someone else meanwhile: reload the page and try again`] };
  const after: MaskingFields = { masking: table.masking, personal_data: table.personal_data };
  await audit({ actor: audited.actor, environment, action: audited.action, target: name, details: JSON.parse(JSON.stringify({ ...audited.details, before, after })) });
  return { errors: [] };
}

/** Scans the source (read-only) for personal data in the given tables (all when none), flags what it finds and
 *  audits the scan: names, rules and reasons only, never a sampled value. */
export async function scanAndFlag(environment: string, actor: string, tables?: string[]): Promise<{ findings: PiiFinding[]; errors: string[] }> {
  const config = await exportConfig(metadata(), environment);
  const scanned = tables?.length ? config.tables.filter((t) => tables.includes(t.name)) : config.tables;
  const findings = await scanPii({ ...config, tables: scanned });
  const errors: string[] = [];
  for (const t of scanned) {
    const found = findings.filter((f) => f.table === t.name);
    const fresh = found.filter((f) => !t.personal_data?.some((p) => same(p.column, f.column)));
    if (!fresh.length) continue;
    const result = await changeTableMasking(environment, t.name, withFindings(fresh), { actor, action: "masking.flag", details: { by: "pii scan" } });
    errors.push(...result.errors.map((e) => `${t.name}: ${e}`));
  }
  await audit({
    actor,
    action: "pii.scan",
    environment,
    target: scanned.map((t) => t.name).join(", "),
    details: { findings: findings.map((f) => ({ table: f.table, column: f.column, rule: f.rule.rule, reason: f.reason, masked: f.masked })) },
  });
  return { findings, errors };
}

/** The target table's column names, for the rules editor's suggestions (empty when the catalog cannot be read). */
export async function targetColumns(environment: string, name: string): Promise<string[]> {
  try {
    const config = await exportConfig(metadata(), environment);
    const table = config.tables.find((t) => t.name === name);
    if (!table) return [];
    const session = await openSession(config.databases.target, "target", config.settings, { kind: "check" });
    try {
      const ref = await session.introspector.findTable(table.name, table.schema);
      return ref ? (await session.introspector.columns(ref)).filter((c) => !c.generated).map((c) => c.name) : [];
    } finally {
      await session.close();
    }
  } catch {
    return [];
  }
}
