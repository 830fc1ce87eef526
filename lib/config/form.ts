// HTML form fields -> the config.yaml table shape, so the admin form validates with the same zod schema as YAML.
import { fieldErrors, tableSchema, type TableConfigInput } from "./schema";

const TEXT = ["name", "schema", "strategy", "sync_mode", "incremental_column", "incremental_type", "partition_column", "partition_function", "partition_scheme", "keep_rows"] as const;
const NUMBER = ["date_buffer_days", "batch_size", "identity_buffer", "uat_ids_from"] as const;
const BOOL = ["truncate_target", "fire_triggers", "enabled", "keep_table", "allow_shrink"] as const;
/** Lists typed as comma-separated names. */
const LIST = ["keep_columns"] as const;

/** Every field the form edits (the rest of a table's config is edited elsewhere, or recorded by runs). */
const EDITED = new Set<string>([...TEXT, ...NUMBER, ...BOOL, ...LIST]);

export type FormValues = Record<string, string | boolean>;

export function tableFormValues(form: FormData): FormValues {
  const v: FormValues = {};
  for (const k of [...TEXT, ...NUMBER]) v[k] = String(form.get(k) ?? "").trim();
  for (const k of BOOL) v[k] = form.get(k) === "on";
  for (const k of LIST) v[k] = String(form.get(k) ?? "").trim();
  return v;
}

export function valuesFromTable(t: TableConfigInput): FormValues {
  const v: FormValues = {};
  for (const k of [...TEXT, ...NUMBER]) v[k] = t[k] === undefined ? "" : String(t[k]);
  for (const k of BOOL) v[k] = t[k] ?? false;
  for (const k of LIST) v[k] = (t[k] ?? []).join(", ");
  return v;
}

/** A saved table with what the form does not edit taken from its stored config: masking, personal data and kept
 *  references (edited on their own pages), the reviewed columns (the new-column review's baseline: lost, the next
 *  run would take every column production has now, a new `ssn` too, as reviewed) and `verify`. */
export function withStoredFields(table: TableConfigInput, stored: TableConfigInput): TableConfigInput {
  return { ...table, ...Object.fromEntries(Object.entries(stored).filter(([k]) => !EDITED.has(k))) };
}

/** Parses form values with the config schema; errors keyed by field name. */
export function parseTableForm(v: FormValues): { table?: TableConfigInput; errors: Record<string, string> } {
  const raw: Record<string, unknown> = {};
  for (const k of TEXT) if (v[k] !== "") raw[k] = v[k];
  for (const k of NUMBER) if (v[k] !== "") raw[k] = /^-?\d+$/.test(String(v[k])) ? Number(v[k]) : v[k];
  for (const k of BOOL) raw[k] = v[k];
  // Optional flags, absent unless set (as YAML writes them).
  if (!raw.keep_table) delete raw.keep_table;
  if (!raw.allow_shrink) delete raw.allow_shrink;
  for (const k of LIST) if (v[k] !== "") raw[k] = String(v[k]).split(",").map((x) => x.trim()).filter(Boolean);
  const parsed = tableSchema.safeParse(raw);
  return parsed.success ? { table: parsed.data, errors: {} } : { errors: fieldErrors(parsed.error) };
}
