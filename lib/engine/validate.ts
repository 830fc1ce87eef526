// Checks a table config against the live catalogs and computes its dry-run plan, writing nothing: what the admin
// form shows before saving.
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import { dialectFor } from "../dialects";
import { RefreshError, resolveTable } from "./context";
import { ProgressTracker } from "./progress";
import { openPair } from "./runner";
import { strategyFor } from "./strategies";
import type { TablePlan } from "./strategies/types";
import { planUatRows } from "./uat-report";

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
    await planUatRows(ctx, plan);
    return { issues: {}, plan };
  } catch (e) {
    const field = e instanceof RefreshError && e.field ? e.field : "_";
    return { issues: { [field]: (e as Error).message } };
  } finally {
    await pair.close();
  }
}
