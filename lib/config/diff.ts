// What importing a config would change, for the preview before applying it.
import { statesReviewedColumns, type RefreshConfig } from "./schema";
import type { EnvironmentConfig } from "./environments";

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: { name: string; fields: { field: string; before: unknown; after: unknown }[] }[];
  databases: { side: "source" | "target"; field: string; before: unknown; after: unknown }[];
  settings: { field: string; before: unknown; after: unknown }[];
  /** Post-refresh steps added, removed or changed (by name), with their SQL before and after. */
  steps: { name: string; before: unknown; after: unknown }[];
  /** The environment's blackout windows and approval rule, when they change. */
  rules: { field: string; before: unknown; after: unknown }[];
}

function fieldChanges(before: Record<string, unknown>, after: Record<string, unknown>) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((field) => ({ field, before: before[field] ?? null, after: after[field] ?? null }));
}

export function diffConfig(current: RefreshConfig | null, next: RefreshConfig): ConfigDiff {
  const cur = new Map((current?.tables ?? []).map((t) => [t.name, t]));
  const nxt = new Map(next.tables.map((t) => [t.name, t]));
  return {
    added: [...nxt.keys()].filter((n) => !cur.has(n)),
    removed: [...cur.keys()].filter((n) => !nxt.has(n)),
    changed: [...nxt.entries()]
      .filter(([n]) => cur.has(n))
      .map(([name, t]) => ({ name, fields: fieldChanges(cur.get(name)!, t).filter((f) => f.field !== "reviewed_columns" || statesReviewedColumns(t)) }))
      .filter((c) => c.fields.length),
    databases: (["source", "target"] as const).flatMap((side) =>
      fieldChanges((current?.databases[side] ?? {}) as Record<string, unknown>, next.databases[side]).map((c) => ({ side, ...c })),
    ),
    settings: fieldChanges((current?.settings ?? {}) as Record<string, unknown>, next.settings),
    steps: stepChanges(current?.post_refresh_steps ?? [], next.post_refresh_steps ?? []),
    rules: fieldChanges({ blackout_windows: current?.blackout_windows ?? [], approval: current?.approval ?? null }, { blackout_windows: next.blackout_windows ?? [], approval: next.approval ?? null }),
  };
}

function stepChanges(before: NonNullable<RefreshConfig["post_refresh_steps"]>, after: NonNullable<RefreshConfig["post_refresh_steps"]>) {
  const names = [...new Set([...before, ...after].map((s) => s.name))];
  const at = (list: typeof before, name: string) => {
    const i = list.findIndex((s) => s.name === name);
    return i < 0 ? null : { position: i, ...list[i] };
  };
  return names
    .map((name) => ({ name, before: at(before, name), after: at(after, name) }))
    .filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after));
}

export function isEmptyDiff(d: ConfigDiff) {
  return !d.added.length && !d.removed.length && !d.changed.length && !d.databases.length && !d.settings.length && !d.steps.length && !d.rules.length;
}

/** Changes of where a connection points or how it signs in (host, port, database, engine, authentication,
 *  credential variables, driver options): the product sends credentials wherever these say, so applying them takes
 *  a confirmation of its own, and they are audited field by field. Empty for a first import. */
export function connectionChanges(current: RefreshConfig | null, d: ConfigDiff): ConfigDiff["databases"] {
  return current ? d.databases : [];
}

/** "source.server: prod-sql -> attacker.example" for messages and confirmations. */
export function describeConnectionChange(c: ConfigDiff["databases"][number]): string {
  return `${c.side}.${c.field}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`;
}

/** Several environments' diffs as one, every name prefixed with its environment ("qa: customers"). */
export function mergeDiffs(diffs: { environment: string; diff: ConfigDiff }[]): ConfigDiff {
  const out: ConfigDiff = { added: [], removed: [], changed: [], databases: [], settings: [], steps: [], rules: [] };
  for (const { environment: e, diff: d } of diffs) {
    out.added.push(...d.added.map((n) => `${e}: ${n}`));
    out.removed.push(...d.removed.map((n) => `${e}: ${n}`));
    out.changed.push(...d.changed.map((c) => ({ ...c, name: `${e}: ${c.name}` })));
    out.databases.push(...d.databases.map((c) => ({ ...c, field: `${c.field} (${e})` })));
    out.steps.push(...d.steps.map((c) => ({ ...c, name: `${e}: ${c.name}` })));
    out.rules.push(...d.rules.map((c) => ({ ...c, field: `${e}: ${c.field}` })));
    // Settings are the installation's: the same change in every environment's diff.
    for (const c of d.settings) if (!out.settings.some((x) => x.field === c.field)) out.settings.push(c);
  }
  return out;
}

/** The environments of `next` each diffed against the stored one of the same name (null: a new environment). */
export function diffEnvironments(current: Map<string, RefreshConfig | null>, next: EnvironmentConfig[]) {
  return next.map((e) => {
    const cur = current.get(e.name) ?? null;
    const diff = diffConfig(cur, e.config);
    return { environment: e.name, diff, connections: connectionChanges(cur, diff) };
  });
}
