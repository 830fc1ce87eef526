// One vocabulary for what a refresh of a table does, on every surface (dashboard, table page, run page, confirmation,
// CLI): the mode it is configured with, then what the refresh did where that differs ("full_replace → merge").
// Pure, so client components use it too.

/** The configured mode: simple_copy's sync_mode, or partition_switch for staging_partition_switch. */
export function configuredMode(table: { strategy: string; sync_mode?: string | null }): string {
  return table.strategy === "simple_copy" ? (table.sync_mode ?? "full_replace") : "partition_switch";
}

/** What the refresh planned does: its resolved mode, or merge for a parent merged by key. */
export function effectiveMode(plan: { mode: string; merged?: boolean }): string {
  return plan.merged ? "merge" : plan.mode;
}

/** "configured → effective" where they differ; either alone where the other is unknown. */
export function modeLabel(configured: string | null | undefined, effective: string | null | undefined): string {
  if (configured && effective && configured !== effective) return `${configured} → ${effective}`;
  return configured ?? effective ?? "?";
}
