// Checks a table config against the live catalogs and computes its dry-run plan, writing nothing: what the admin
// form shows before saving.
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import { dialectFor } from "../dialects";
import { resolveTable } from "./context";
import { RefreshError } from "./errors";
import { openSession } from "./connections";
import { keepRecordFor, refKey } from "./groups";
import { ProgressTracker } from "./progress";
import { openPair } from "./runner";
import { strategyFor } from "./strategies";
import type { TablePlan } from "./strategies/types";
import { annotatePlan } from "./uat-report";

export interface CatalogCheck {
  /** Field -> message, for the form; "_" for problems with no single field. */
  issues: Record<string, string>;
  plan?: TablePlan;
}

export async function checkAgainstCatalog(config: RefreshConfig, table: TableConfigInput): Promise<CatalogCheck> {
  let pair;
  try {
    pair = await openPair(config, { kind: "check" });
  } catch (e) {
    return { issues: { _: `cannot check against the databases: ${(e as Error).message}` } };
  }
  try {
    const tracker = new ProgressTracker(() => {}, "preview", table.name);
    const ctx = await resolveTable(table, config.settings, dialectFor(config.databases.target.engine), pair, tracker);
    const plan = await strategyFor(table.strategy).plan(ctx);
    await annotatePlan(ctx, plan);
    return { issues: {}, plan };
  } catch (e) {
    const field = e instanceof RefreshError && e.field ? e.field : "_";
    return { issues: { [field]: (e as Error).message } };
  } finally {
    await pair.close();
  }
}

/** keep_referencing entries that name no foreign key of the target into their table, each with its path in the file
 *  (`tables[2].keep_referencing[0]: ...`); checked against the target's catalog as it is now. */
export async function unknownKeepReferencing(config: RefreshConfig): Promise<string[]> {
  const withRecords = config.tables.map((t, i) => ({ t, i })).filter(({ t }) => t.keep_referencing?.length);
  if (!withRecords.length) return [];
  let session;
  try {
    session = await openSession(config.databases.target, "target", config.settings, { kind: "check" });
  } catch (e) {
    return [`keep_referencing: cannot be checked against the target's catalog (${(e as Error).message})`];
  }
  try {
    const issues: string[] = [];
    for (const { t, i } of withRecords) {
      const ref = await session.introspector.findTable(t.name, t.schema);
      if (!ref) {
        issues.push(`tables[${i}].name: ${t.name} does not exist in the target database (it has keep_referencing entries)`);
        continue;
      }
      const into = (await session.introspector.foreignKeys(ref)).filter((k) => refKey(k.referenced) === refKey(ref) && refKey(k.table) !== refKey(ref));
      t.keep_referencing!.forEach((r, j) => {
        if (!into.some((k) => keepRecordFor(r, k)))
          issues.push(`tables[${i}].keep_referencing[${j}].foreign_key: ${r.table} has no foreign key ${r.foreign_key} into ${t.name} in the target database`);
      });
    }
    return issues;
  } finally {
    await session.close();
  }
}
