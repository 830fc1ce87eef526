// Refresh groups: the tables of a run connected by foreign keys (read from the target's catalog) refresh together,
// in one target transaction: cleared children first, loaded parents first. Pure planning, no database here.
import type { ForeignKey, TableRef } from "../dialects/types";

/** How a member writes: empties and reloads, appends new ids, or re-syncs a date window. */
export type WriteKind = "replace" | "append" | "window" | "switch";

export interface Member {
  /** The table's name in the configuration. */
  name: string;
  target: TableRef;
  kind: WriteKind;
  /** A full replace whose keep rule (keep_rows, keep_columns) keeps some of UAT's rows or values: in a group it is
   *  merged, never emptied whole, and the tables its kept rows reference merge with it. */
  keepsByRule?: boolean;
  /** With keepsByRule: keep_rows only, on a table without a key to merge on. In a group it is emptied but for the
   *  rows its rule keeps, as on its own; the tables those rows reference still merge. */
  keepsWithoutKey?: boolean;
}

export interface RefreshGroup {
  /** Members in load order: every table after the tables it references (cycles: configuration order). */
  members: Member[];
  /** Keys between members. */
  keys: ForeignKey[];
  /** Keys not checked while the group loads (self-references and cycles), validated before the commit. */
  suspended: ForeignKey[];
  /** Members that are emptied or re-synced while tables that keep their rows still reference them: merged
   *  (changed rows updated, new ones inserted, rows gone from the source deleted unless still referenced). */
  merged: Set<string>;
  /** Per merged member, the keys whose referencing rows stay while it refreshes (those of members not emptied with
   *  it, and of tables outside the run): a merge deletes no row they still reference. */
  keepers: Map<string, ForeignKey[]>;
  /** Members emptied but for the rows their keep rule keeps (keep_rows on a table without a key to merge on). */
  partlyEmptied: Set<string>;
}

export interface GroupPlan {
  groups: RefreshGroup[];
  /** Tables outside the configuration that reference a member which would lose rows: the run is refused for
   *  them, unless an admin recorded that their rows are kept (then, like configured tables outside the run, their
   *  rows stay and the member is merged). */
  outside: { member: string; key: ForeignKey }[];
}

export const refKey = (t: TableRef) => `${t.schema}.${t.name}`.toLowerCase();

/** Whether a table of the catalog is a configured table: by name, and by schema when the configuration names one. */
export function isConfigured(tables: { name: string; schema?: string }[], t: TableRef): boolean {
  return tables.some((c) => c.name.toLowerCase() === t.name.toLowerCase() && (!c.schema || c.schema.toLowerCase() === t.schema.toLowerCase()));
}

/** Whether an admin's keep_referencing record names this foreign key (its table as `schema.table` or `table`). */
export function keepRecordFor(record: { foreign_key: string; table: string }, k: ForeignKey): boolean {
  return record.foreign_key.toLowerCase() === k.name.toLowerCase() && [refKey(k.table), k.table.name.toLowerCase()].includes(record.table.toLowerCase());
}

/**
 * Groups `members` by the keys between them, orders each group parents first, marks the keys to suspend and the
 * parents to merge. `keys`: every foreign key touching a member; `configured`: every configured table's target
 * (a key from a configured table outside the run keeps that table's rows; one from an unconfigured table is named).
 */
export function planGroups(members: Member[], keys: ForeignKey[], configured: TableRef[], keptByAdmin: (k: ForeignKey) => boolean = () => false): GroupPlan {
  const byKey = new Map(members.map((m) => [refKey(m.target), m]));
  const known = new Set(configured.map(refKey));
  const unique = [...new Map(keys.map((k) => [`${refKey(k.table)}.${k.name}`.toLowerCase(), k])).values()];

  // Union-find over members joined by keys.
  const parent = new Map(members.map((m) => [m.name, m.name]));
  const find = (n: string): string => (parent.get(n) === n ? n : find(parent.get(n)!));
  const inner = unique.filter((k) => byKey.has(refKey(k.table)) && byKey.has(refKey(k.referenced)));
  for (const k of inner) parent.set(find(byKey.get(refKey(k.table))!.name), find(byKey.get(refKey(k.referenced))!.name));

  const outside: GroupPlan["outside"] = [];
  const outsideKeepers = new Map<string, ForeignKey[]>();
  for (const k of unique) {
    const referenced = byKey.get(refKey(k.referenced));
    if (!referenced || byKey.has(refKey(k.table))) continue;
    if (referenced.kind === "append" || referenced.kind === "switch") continue; // loses no rows
    if (known.has(refKey(k.table)) || keptByAdmin(k)) outsideKeepers.set(referenced.name, [...(outsideKeepers.get(referenced.name) ?? []), k]);
    else outside.push({ member: referenced.name, key: k });
  }

  const groups: RefreshGroup[] = [];
  for (const root of [...new Set(members.map((m) => find(m.name)))]) {
    const group = members.filter((m) => find(m.name) === root);
    const names = new Set(group.map((m) => m.name));
    const gKeys = inner.filter((k) => names.has(byKey.get(refKey(k.table))!.name));
    const { order, suspended } = loadOrder(group, gKeys, byKey);
    // A member is emptied whole only if every table referencing it is emptied whole with it; otherwise it is
    // merged. Merging a child keeps its rows, so its parents merge too: repeated until nothing changes.
    const keepsRows = (m: Member) => gKeys.length > 0 && m.kind === "replace" && !!m.keepsByRule;
    const merged = new Set<string>(group.filter((m) => keepsRows(m) && !m.keepsWithoutKey).map((m) => m.name));
    const partlyEmptied = new Set<string>(group.filter((m) => keepsRows(m) && m.keepsWithoutKey).map((m) => m.name));
    const clearedWhole = (m: Member) => m.kind === "replace" && !merged.has(m.name) && !partlyEmptied.has(m.name);
    const referencing = (m: Member) => gKeys.filter((k) => refKey(k.referenced) === refKey(m.target) && refKey(k.table) !== refKey(m.target));
    for (let changed = true; changed; ) {
      changed = false;
      for (const m of group) {
        if (merged.has(m.name) || (m.kind !== "replace" && m.kind !== "window")) continue;
        const children = referencing(m);
        const kept = children.some((k) => !clearedWhole(byKey.get(refKey(k.table))!)) || outsideKeepers.has(m.name);
        // A re-synced window can delete rows its children use (whatever they do), so it merges whenever it has any.
        if ((m.kind === "replace" && kept) || (m.kind === "window" && (children.length > 0 || outsideKeepers.has(m.name)))) {
          merged.add(m.name);
          changed = true;
        }
      }
    }
    const keepers = new Map(
      group
        .filter((m) => merged.has(m.name))
        .map((m) => [m.name, [...referencing(m).filter((k) => !clearedWhole(byKey.get(refKey(k.table))!)), ...(outsideKeepers.get(m.name) ?? [])]]),
    );
    // One whose own children keep rows must be merged after all (and then needs a key: its plan says so).
    for (const name of merged) partlyEmptied.delete(name);
    groups.push({ members: order, keys: gKeys, suspended, merged, keepers, partlyEmptied });
  }
  return { groups, outside };
}

/** Parents first (Kahn's algorithm); a cycle is broken at the member first in configuration order, and every key
 *  that then points forward (and every self-reference) is suspended during the load. */
function loadOrder(group: Member[], keys: ForeignKey[], byKey: Map<string, Member>) {
  const edges = keys.filter((k) => refKey(k.table) !== refKey(k.referenced));
  const order: Member[] = [];
  const placed = new Set<string>();
  while (order.length < group.length) {
    const ready = group.find((m) => !placed.has(m.name) && edges.every((k) => refKey(k.table) !== refKey(m.target) || placed.has(byKey.get(refKey(k.referenced))!.name)));
    const next = ready ?? group.find((m) => !placed.has(m.name))!;
    order.push(next);
    placed.add(next.name);
  }
  const position = new Map(order.map((m, i) => [refKey(m.target), i]));
  const suspended = keys.filter((k) => position.get(refKey(k.referenced))! >= position.get(refKey(k.table))!);
  return { order, suspended };
}

/** Why a merged member is merged, for the refusal of one without a key to match rows on. */
export function mergeReason(m: Member): string {
  return m.keepsByRule ? "must be merged (its keep rule keeps UAT's rows, and it refreshes in a group)" : "must be merged (tables that keep their rows reference it)";
}

/** "customers -> orders -> order_items" for plans and run pages. */
export function describeGroup(g: RefreshGroup): string {
  const names = g.members.map((m) => (g.merged.has(m.name) ? `${m.name} (merged)` : g.partlyEmptied.has(m.name) ? `${m.name} (its kept rows stay)` : m.name)).join(" -> ");
  return g.suspended.length ? `${names}; checked after the load: ${g.suspended.map((k) => k.name).join(", ")}` : names;
}
