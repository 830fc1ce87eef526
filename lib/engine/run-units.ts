// What a run executes, in units: tables related by foreign keys form one refresh group (one transaction);
// every other table runs on its own. Decided from the target's catalog before anything is written.
import type { TableConfigInput } from "../config/schema";
import type { Dialect, ForeignKey, Session, TableRef } from "../dialects/types";
import { displayName } from "./table-name";
import { isConfigured, keepRecordFor, planGroups, refKey, type Member, type RefreshGroup, type WriteKind } from "./groups";
import { isMergeKey } from "./merge-key";

export interface GroupUnit {
  group: RefreshGroup;
  /** Every key referencing a member (the group's own and those from tables outside the run). */
  referencing: ForeignKey[];
  /** Why the group cannot run, by the member that tables outside the configuration reference: the group fails. */
  refused?: Record<string, string>;
}

export type RunUnit = { kind: "table"; table: TableConfigInput } | { kind: "group"; tables: TableConfigInput[]; unit: GroupUnit };

async function writeKind(t: TableConfigInput, ref: TableRef, target: Session, dialect: Dialect): Promise<WriteKind> {
  if (t.strategy === "staging_partition_switch") return "switch";
  let mode = t.sync_mode;
  if (mode === "smart_sync") {
    const [r] = await target.query<{ empty: boolean | number }>(dialect.compiler.isEmpty(ref));
    mode = r.empty ? "full_replace" : "incremental";
  }
  if (mode === "full_replace") return "replace";
  return t.incremental_type === "identity" ? "append" : "window";
}

/** Whether UAT's table has a key a merge can match rows on: a primary key, or an unfiltered unique index over NOT
 *  NULL columns (asked only of tables with a keep rule and a foreign key; as lib/engine/merge-key decides it). */
async function hasMergeKey(ref: TableRef, target: Session): Promise<boolean> {
  const [indexes, columns] = [await target.introspector.indexes(ref), await target.introspector.columns(ref)];
  return indexes.some((i) => isMergeKey(i, columns));
}

export async function planUnits(all: TableConfigInput[], tables: TableConfigInput[], target: Session, dialect: Dialect): Promise<RunUnit[]> {
  const members: Member[] = [];
  const keys: ForeignKey[] = [];
  const byName = new Map(tables.map((t) => [t.name, t]));
  const units: RunUnit[] = [];
  for (const t of tables) {
    const ref = await target.introspector.findTable(t.name, t.schema);
    // A table missing in the target runs alone and fails there, naming itself.
    if (!ref) {
      units.push({ kind: "table", table: t });
      continue;
    }
    const own = await target.introspector.foreignKeys(ref);
    const keepsByRule = t.keep_rows !== undefined || !!t.keep_columns?.length;
    // Only a table some key joins to another can be in a group: one without any never needs the answer.
    const keepsWithoutKey = keepsByRule && !t.keep_columns?.length && own.length > 0 && !(await hasMergeKey(ref, target));
    members.push({ name: t.name, target: ref, kind: await writeKind(t, ref, target, dialect), keepsByRule, ...(keepsWithoutKey && { keepsWithoutKey }) });
    keys.push(...own);
  }
  const configured = keys.flatMap((k) => [k.table, k.referenced]).filter((r) => isConfigured(all, r));
  // keep_referencing: an admin recorded, per foreign key, that the UAT rows of an unconfigured table are kept.
  const keptByAdmin = (k: ForeignKey) => {
    const member = members.find((m) => refKey(m.target) === refKey(k.referenced));
    const records = member ? (byName.get(member.name)?.keep_referencing ?? []) : [];
    return records.some((r) => keepRecordFor(r, k));
  };
  const plan = planGroups(members, keys, configured, keptByAdmin);
  const referencing = (names: Set<string>) => keys.filter((k) => members.some((m) => names.has(m.name) && refKey(m.target) === refKey(k.referenced)));
  for (const group of plan.groups) {
    const names = new Set(group.members.map((m) => m.name));
    const outside = plan.outside.filter((o) => names.has(o.member));
    const alone = group.members.length === 1 && !group.keys.length && !group.merged.size && !outside.length;
    if (alone) {
      units.push({ kind: "table", table: byName.get(group.members[0].name)! });
      continue;
    }
    // Said once, on the table the outside rows reference; the group's other members say where to look.
    const refused = outside.length
      ? Object.fromEntries(
          [...new Set(outside.map((o) => o.member))].map((m) => {
            const list = outside.filter((o) => o.member === m).map((o) => `${displayName(o.key.table)} (${o.key.name})`);
            return [m, `${m} is referenced by table(s) outside the configuration: ${list.join(", ")}; emptying or re-syncing ${m} would break their rows. Add them to the configuration (they then refresh with ${m}, or keep their rows while ${m} is merged), or record for each foreign key that UAT's rows there are kept (keep_referencing, on the table's admin page)`];
          }),
        )
      : undefined;
    units.push({ kind: "group", tables: group.members.map((m) => byName.get(m.name)!), unit: { group, referencing: referencing(names), refused } });
  }
  return units;
}
