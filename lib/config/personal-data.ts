// Changes to a table's masking rules and personal-data list, as pure functions of the two lists: the admin pages
// apply them (server/masking.ts validates and audits the result).
import type { MaskRule, PersonalData } from "./masking";
import type { TableConfigInput } from "./schema";

export type MaskingFields = Pick<TableConfigInput, "masking" | "personal_data">;

export const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Sets (adds or replaces) the rule of one column; a "no masking needed" decision on it no longer applies. */
export function withRule(rule: MaskRule) {
  return (t: MaskingFields): MaskingFields => ({
    masking: [...(t.masking ?? []).filter((m) => !same(m.column, rule.column)), rule],
    personal_data: t.personal_data?.map((p) => (same(p.column, rule.column) ? { ...p, no_masking_needed: undefined, decided_by: undefined } : p)),
  });
}

/** Records that a flagged column may be copied as it is, why, and by whom (flagging it first if need be). */
export function withNoMaskingNeeded(column: string, reason: string, by: string) {
  return (t: MaskingFields): MaskingFields => {
    const flagged = t.personal_data?.some((p) => same(p.column, column)) ? t.personal_data! : [...(t.personal_data ?? []), { column }];
    return { ...t, personal_data: flagged.map((p) => (same(p.column, column) ? { ...p, no_masking_needed: reason, decided_by: by } : p)) };
  };
}

/** Flags the columns a scan found that the table does not list yet; the ones it lists keep their decisions. */
export function withFindings(findings: { column: string; reason: string; rule: MaskRule }[]) {
  return (t: MaskingFields): MaskingFields => {
    const added: PersonalData[] = findings
      .filter((f) => !t.personal_data?.some((p) => same(p.column, f.column)))
      .map((f) => ({ column: f.column, found: f.reason.slice(0, 500), suggested_rule: f.rule.rule }));
    return { ...t, personal_data: [...(t.personal_data ?? []), ...added] };
  };
}

