// What a DBA gives a UAT table, as PostgreSQL's catalog describes it: the snapshot tests compare before and after a
// refresh, so that a refresh which strips an index, a grant or a trigger UAT added fails them.
import type pg from "pg";

/** Every table and partition of the schema as the catalog describes it: owner, ACL, options, row-level security,
 *  comment, constraints (validated), indexes, triggers (enabled state), policies, extended statistics, columns'
 *  comments and statistics targets. Table names inside definitions are kept: a partition switched in must be the
 *  partition it replaces, by name too. */
const CATALOG = `
SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl, c.reloptions::text AS options,
       c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls, obj_description(c.oid, 'pg_class') AS comment,
       (SELECT json_agg(json_build_array(att.attname, att.attacl::text) ORDER BY att.attname) FROM pg_attribute att WHERE att.attrelid = c.oid AND att.attacl IS NOT NULL) AS column_acl,
       (SELECT json_agg(json_build_array(k.conname, k.contype, pg_get_constraintdef(k.oid), k.convalidated) ORDER BY k.conname) FROM pg_constraint k WHERE k.conrelid = c.oid) AS constraints,
       (SELECT json_agg(json_build_array(i.relname, pg_get_indexdef(x.indexrelid)) ORDER BY i.relname) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid) AS indexes,
       (SELECT json_agg(json_build_array(t.tgname, t.tgenabled, pg_get_triggerdef(t.oid)) ORDER BY t.tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers,
       (SELECT json_agg(json_build_array(pol.polname, pol.polcmd, pg_get_expr(pol.polqual, pol.polrelid)) ORDER BY pol.polname) FROM pg_policy pol WHERE pol.polrelid = c.oid) AS policies,
       (SELECT json_agg(json_build_array(st.stxname, pg_get_statisticsobjdef(st.oid), pg_get_userbyid(st.stxowner)) ORDER BY st.stxname) FROM pg_statistic_ext st WHERE st.stxrelid = c.oid) AS statistics,
       (SELECT json_agg(json_build_array(att.attname, col_description(c.oid, att.attnum), CASE WHEN att.attstattarget::int >= 0 THEN att.attstattarget::int END) ORDER BY att.attname)
          FROM pg_attribute att WHERE att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped AND (col_description(c.oid, att.attnum) IS NOT NULL OR att.attstattarget::int >= 0)) AS column_settings
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`;

export interface CatalogEntry {
  name: string;
  owner: string;
  acl: string | null;
  options: string | null;
  rls: boolean;
  force_rls: boolean;
  comment: string | null;
  /** The JSON arrays (columns' ACLs, constraints, indexes, triggers, policies), compared whole. */
  [list: string]: unknown;
}

export async function catalog(client: pg.Client): Promise<CatalogEntry[]> {
  return (await client.query<CatalogEntry>(CATALOG)).rows;
}
