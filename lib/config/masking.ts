// The `masking:` list of a table in config.yaml: which column is masked how. Validated here for shape; against the
// catalog (the column exists, its type fits the rule, it is no watermark or partition key) when a refresh resolves it.
import { z } from "zod";
import { identifier } from "./identifier";

export const FAKE_KINDS = ["first_name", "last_name", "full_name", "email", "phone", "street_address", "city", "postcode", "company", "iban", "card_number", "date_of_birth"] as const;
export type FakeKind = (typeof FAKE_KINDS)[number];

export const RULES = ["null", "fixed", "hash", "partial", "date_shift", "sql", ...FAKE_KINDS.map((k) => `fake_${k}` as const)] as const;
export type RuleName = (typeof RULES)[number];

export const maskRuleSchema = z
  .object({
    column: identifier,
    rule: z.enum(RULES),
    /** fixed */
    value: z.string().optional(),
    /** hash: hex characters kept (default all 64) */
    length: z.number().int().min(8).max(64).optional(),
    /** partial: characters kept at each end; the rest become mask_char */
    keep_first: z.number().int().min(0).max(1000).optional(),
    keep_last: z.number().int().min(0).max(1000).optional(),
    mask_char: z.string().length(1).optional(),
    /** date_shift: within +/- days */
    days: z.number().int().min(1).max(3650).optional(),
    /** sql: an expression the source evaluates instead of the column (experts; runs on the read-only source) */
    expression: z.string().trim().min(1).max(2000).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const needs: Partial<Record<RuleName, keyof typeof r>> = { fixed: "value", date_shift: "days", sql: "expression" };
    const field = needs[r.rule];
    if (field && r[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `is required for rule ${r.rule}` });
    if (r.rule === "partial" && r.keep_first === undefined && r.keep_last === undefined)
      ctx.addIssue({ code: "custom", path: ["keep_first"], message: "partial needs keep_first and/or keep_last" });
  });

export type MaskRule = z.infer<typeof maskRuleSchema>;

/** A column flagged as personal data (by the PII scan or by hand). The policy: every flagged column a refresh copies
 *  has a masking rule, or an admin's recorded decision that it needs none, with the reason. */
export const personalDataSchema = z
  .object({
    column: identifier,
    /** What flagged it: the scan's finding ("column name email", "38 of 40 sampled values are email addresses"). */
    found: z.string().trim().max(500).optional(),
    /** The rule the scan proposed: a starting point; the masking list is what applies. */
    suggested_rule: z.enum(RULES).optional(),
    /** An admin's decision that this column may be copied as it is, and why. */
    no_masking_needed: z.string().trim().min(10, "give a reason of at least 10 characters").max(1000).optional(),
    /** Who decided (set by the admin UI; the audit trail keeps the full history). */
    decided_by: z.string().max(320).optional(),
  })
  .strict();

export type PersonalData = z.infer<typeof personalDataSchema>;

/** Flagged columns with neither a masking rule nor a "no masking needed" decision: a refresh refuses them. */
export function unresolvedPersonalData(t: { masking?: MaskRule[]; personal_data?: PersonalData[] }): string[] {
  const masked = new Set((t.masking ?? []).map((m) => m.column.toLowerCase()));
  return (t.personal_data ?? []).filter((p) => !p.no_masking_needed && !masked.has(p.column.toLowerCase())).map((p) => p.column);
}
