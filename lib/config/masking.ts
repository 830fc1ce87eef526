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
