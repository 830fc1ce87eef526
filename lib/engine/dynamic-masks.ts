// SQL Server's dynamic data masks, said in the plan (so the dry run says them): a login without UNMASK reads a masked
// column's mask ("aXXX@XXXX.com", 0, 1900-01-01), never its value. Read from production, the copy would hold masks
// (unique keys collide, a join finds nothing) and its checksum, an expression over them, would be a mask too; read
// back from UAT, the verification and the identities moved on would see masks instead of the rows written.
import type { Session, TableRef } from "../dialects/types";
import { RefreshError } from "./errors";
import { displayName } from "./table-name";

const HINTS = {
  source:
    "Grant the source login UNMASK (GRANT UNMASK TO ...; from SQL Server 2022 also on the schema, table or columns): it still only reads. To keep personal data out of UAT, give those columns masking rules, which write masked values UAT can use (unique where the column is, the same in every table); nothing was read.",
  target: "Grant the target login UNMASK on UAT (db_owner has it): the refresh reads UAT's rows back to verify them and to move identities on; nothing was written.",
};

/** Refuses a table whose copied columns (named as on that side) the session's login reads through a dynamic data mask. */
export async function refuseMaskedColumns(session: Session, table: TableRef, columns: string[], side: "source" | "target") {
  const copied = new Set(columns.map((c) => c.toLowerCase()));
  const masked = (await session.introspector.maskedColumns?.(table))?.filter((m) => copied.has(m.column.toLowerCase())) ?? [];
  if (!masked.length) return;
  const list = masked.map((m) => `${m.column} (${m.mask})`).join(", ");
  throw new RefreshError(
    side === "source"
      ? `dynamic data masking on ${displayName(table)} hides ${list} from the source login: the copy would hold the masks, not production's values`
      : `dynamic data masking on ${displayName(table)} hides ${list} from the target login: the refresh would read masks back instead of the rows it wrote`,
    { hint: HINTS[side] },
  );
}
