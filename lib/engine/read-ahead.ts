// The catalog of one table on one session: what a refresh reads first, on each side, before anything else.
// A run plans its units on the target's session while the source's has nothing to do: the source reads the catalog
// of the table the run starts with meanwhile (readAhead), and that table's refresh takes the answers instead of
// asking again. Three round trips fewer on the way to the first rows, more where each is slow (a remote production,
// a server that reads its catalog views cold on every new session).
import type { TableConfigInput } from "../config/schema";
import type { ColumnInfo, FoundTable, IndexInfo, Session } from "../dialects/types";

export interface TableCatalog {
  /** null: no such table on this side. */
  table: FoundTable | null;
  columns: ColumnInfo[];
  indexes: IndexInfo[];
}

/** One after the other: a session takes one request at a time. */
export async function readCatalog(session: Session, config: Pick<TableConfigInput, "name" | "schema">): Promise<TableCatalog> {
  const table = await session.introspector.findTable(config.name, config.schema);
  // A table the refresh cannot read or write is refused on that alone (lib/engine/context).
  if (!table || table.unsupported) return { table, columns: [], indexes: [] };
  const columns = await session.introspector.columns(table);
  const indexes = await session.introspector.indexes(table);
  return { table, columns, indexes };
}

/** A catalog read on a session ahead of need, handed once to the table's refresh on that same session. */
export interface ReadAhead {
  /** The answers for `config`'s table, once (still being read, perhaps); undefined for any other table and a second
   *  time. A failed read is asked again, so a failure is reported (and retried) where it always is. */
  take(config: Pick<TableConfigInput, "name" | "schema">): Promise<TableCatalog> | undefined;
  /** Resolves once the session is free again (never rejects): nothing but `take`'s caller may use it before. */
  settled: Promise<void>;
}

/** Starts reading `config`'s catalog on `session`. */
export function readAhead(session: Session, config: Pick<TableConfigInput, "name" | "schema">): ReadAhead {
  let reading: Promise<TableCatalog> | undefined = readCatalog(session, config);
  const settled = reading.then(
    () => {},
    () => {},
  );
  return {
    take(asked) {
      if (!reading || asked.name !== config.name || asked.schema !== config.schema) return undefined;
      const taken = reading;
      reading = undefined;
      return taken.catch(() => readCatalog(session, config));
    },
    settled,
  };
}
