// Row-level security said in the plan (so the dry run says it), never found out from the data: a source whose policies
// filter what the refresh reads would copy a subset (and verify that subset against itself), a target whose policies
// apply would empty and merge only the rows they show.
import type { Engine, Session, TableRef } from "../dialects/types";
import { RefreshError } from "./errors";
import { displayName } from "./table-name";

const HINTS: Record<Engine, Record<"source" | "target", string>> = {
  postgres: {
    source: "Give the source login BYPASSRLS (or make it the table's owner, without FORCE ROW LEVEL SECURITY); nothing was read.",
    target: "Give the target login BYPASSRLS (or make it the table's owner, without FORCE ROW LEVEL SECURITY); nothing was written.",
  },
  sqlserver: {
    source:
      "SQL Server applies a security policy to every login, db_owner and the table's owner too. If its predicates let the source login see every row, say so with options.rowSecurityExempt: true on the source connection; nothing was read.",
    target:
      "SQL Server applies a security policy to every login, db_owner and the table's owner too: turn it off on UAT (ALTER SECURITY POLICY ... WITH (STATE = OFF)), or, if its predicates let the target login see and change every row, set options.rowSecurityExempt: true on the target connection; nothing was written.",
  },
};

/** Refuses a source table whose row-level security filters what the source login reads. */
export async function refuseFilteredSource(source: Session, table: TableRef) {
  const rls = await source.introspector.rowSecurity?.(table);
  if (rls?.filtersReads)
    throw new RefreshError(`row-level security on ${displayName(table)} (${rls.policies.join("; ")}) filters what the source login reads: the copy would hold only the rows it allows`, {
      hint: HINTS[source.engine].source,
    });
}

/** Refuses a target table whose row-level security applies to the target login (filters or blocks its writes). */
export async function refuseSecuredTarget(target: Session, table: TableRef) {
  const rls = await target.introspector.rowSecurity?.(table);
  if (rls)
    throw new RefreshError(`row-level security on ${displayName(table)} (${rls.policies.join("; ")}) applies to the target login: it would write and empty only the rows its policies allow`, {
      hint: HINTS[target.engine].target,
    });
}
