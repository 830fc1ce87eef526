// Tables outside the configuration that reference a configured table: read live from the target's catalog, and the
// admins' per-foreign-key decisions that their UAT rows are kept (keep_referencing). Every change is checked
// against the catalog and audited with before/after.
import "server-only";
import { audit } from "@/lib/audit";
import { formatIssues, tableSchema, type KeepReferencing } from "@/lib/config/schema";
import { exportConfig, rowToTable, tableToRow } from "@/lib/config/store";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { openSession } from "@/lib/engine/connections";
import { isConfigured, keepRecordFor, refKey } from "@/lib/engine/groups";
import { metadata } from "@/lib/metadata/client";
import { redact } from "@/lib/redact";

registerBuiltInDialects();

export interface OutsideReference {
  foreignKey: string;
  table: string;
  columns: string[];
  kept?: KeepReferencing;
}

/** The foreign keys into `name` from tables the configuration does not have, with the decision recorded for each. */
export async function outsideReferences(environment: string, name: string): Promise<OutsideReference[]> {
  const config = await exportConfig(metadata(), environment);
  const table = config.tables.find((t) => t.name === name);
  if (!table) throw new Error(`no table config named ${name}`);
  const session = await openSession(config.databases.target, "target", config.settings, { kind: "check" });
  try {
    const ref = await session.introspector.findTable(table.name, table.schema);
    if (!ref) throw new Error(`table ${name} does not exist in the target database`);
    const keys = (await session.introspector.foreignKeys(ref)).filter((k) => refKey(k.referenced) === refKey(ref) && refKey(k.table) !== refKey(ref) && !isConfigured(config.tables, k.table));
    return keys.map((k) => ({ foreignKey: k.name, table: `${k.table.schema}.${k.table.name}`, columns: k.columns, kept: table.keep_referencing?.find((r) => keepRecordFor(r, k)) }));
  } finally {
    await session.close();
  }
}

/** Records (`reason` given) or withdraws (`reason` null) that the rows behind one foreign key are kept. */
export async function decideKeepReferencing(environment: string, name: string, foreignKey: string, referencing: string, reason: string | null, actor: string): Promise<{ errors: string[] }> {
  const db = metadata();
  const row = await db.tableConfig.findUnique({ where: { environment_name: { environment, name } } });
  if (!row) return { errors: [`no table config named ${name}`] };
  const current = rowToTable(row);
  const before = current.keep_referencing ?? [];
  const others = before.filter((r) => !(r.foreign_key.toLowerCase() === foreignKey.toLowerCase() && r.table.toLowerCase() === referencing.toLowerCase()));
  let after = others;
  if (reason !== null) {
    let found: OutsideReference | undefined;
    try {
      found = (await outsideReferences(environment, name)).find((o) => o.foreignKey.toLowerCase() === foreignKey.toLowerCase() && o.table.toLowerCase() === referencing.toLowerCase());
    } catch (e) {
      return { errors: [redact((e as Error).message)] };
    }
    if (!found) return { errors: [`${referencing} has no foreign key ${foreignKey} into ${name} from outside the configuration (the target's catalog was read now)`] };
    after = [...others, { foreign_key: found.foreignKey, table: found.table, reason, decided_by: actor }];
  }
  const parsed = tableSchema.safeParse({ ...current, keep_referencing: after.length ? after : undefined });
  if (!parsed.success) return { errors: formatIssues(parsed.error) };
  // Saved only if nobody changed the table since it was read: no lost update.
  const saved = await db.tableConfig.updateMany({ where: { id: row.id, updatedAt: row.updatedAt }, data: tableToRow(parsed.data, row.position) });
  if (saved.count === 0) return { errors: [`${name} was changed by someone else meanwhile: reload the page and try again`] };
  await audit({ actor, environment, action: "table.keep_referencing", target: name, details: JSON.parse(JSON.stringify({ foreignKey, table: referencing, before, after })) });
  return { errors: [] };
}
