// SQL Server catalog reads through sys.* views: tables, columns (with identity), indexes, partition function,
// scheme, boundaries and filegroups. The SQL texts are exported so the tests can parse them with the grammar.
import type { CheckInfo, ColumnInfo, ForeignKey, FoundTable, IndexInfo, Introspector, MaskedColumn, PartitionInfo, Privilege, SequenceUse, TableRef, TypeFamily } from "../types";
import { qualified, quoteIdent } from "./compiler";
import { columnNamed } from "../columns";
import { lockWaitsFrom, type LockWaitRow } from "../lock-waits";

type Query = <R>(sql: string, params: unknown[]) => Promise<R[]>;

/** How each privilege the engine may need is asked of the server (see SQL.privileges). */
const PRIVILEGE_TESTS: Record<Privilege, string> = {
  SELECT: "HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'SELECT')",
  INSERT: "HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'INSERT')",
  UPDATE: "HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'UPDATE')",
  DELETE: "HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'DELETE')",
  TRUNCATE: "HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'ALTER')",
  ALTER: "HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'ALTER')",
  CREATE:
    "CASE WHEN HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CREATE TABLE') = 1 AND HAS_PERMS_BY_NAME(OBJECT_SCHEMA_NAME(OBJECT_ID(@p1)), 'SCHEMA', 'ALTER') = 1 THEN 1 ELSE 0 END",
  SEQUENCE: `CASE WHEN EXISTS (SELECT 1 FROM sys.default_constraints AS dc JOIN sys.sql_expression_dependencies AS d ON d.referencing_id = dc.object_id
      JOIN sys.sequences AS sq ON sq.object_id = d.referenced_id
      WHERE dc.parent_object_id = OBJECT_ID(@p1) AND ISNULL(HAS_PERMS_BY_NAME(QUOTENAME(SCHEMA_NAME(sq.schema_id)) + N'.' + QUOTENAME(sq.name), 'OBJECT', 'ALTER'), 0) = 0)
      THEN 0 ELSE 1 END`,
};

export const SQL = {
  // A ledger table's kind as sys.tables.ledger_type says it (1 the history of an updatable one, 2 updatable, 3
  // append-only), read instead from what every version since 2016 has (ledger_type exists from 2022 only): a history
  // table is the history_table_id of another table without being a temporal one's (temporal_type 1); a ledger table
  // has GENERATED ALWAYS columns AS TRANSACTION_ID / SEQUENCE_NUMBER START, and END where it is updatable
  // (sys.columns.generated_always_type 7-10).
  findTable: `SELECT s.name AS [schema], t.name AS [name], t.is_memory_optimized AS [memoryOptimized], t.temporal_type AS [temporal],
    CASE WHEN t.temporal_type = 0 AND EXISTS (SELECT 1 FROM sys.tables AS p WHERE p.history_table_id = t.object_id) THEN 1
      WHEN EXISTS (SELECT 1 FROM sys.columns AS c WHERE c.object_id = t.object_id AND c.generated_always_type IN (8, 10)) THEN 2
      WHEN EXISTS (SELECT 1 FROM sys.columns AS c WHERE c.object_id = t.object_id AND c.generated_always_type IN (7, 9)) THEN 3 ELSE 0 END AS [ledger]
    FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id
    WHERE t.name = @p1 AND s.name = COALESCE(@p2, SCHEMA_NAME()) AND t.is_ms_shipped = 0`,
  // The declared type is the row whose user_type_id is the column's user_type_id; the base system type is the row
  // whose user_type_id is the column's system_type_id. CLR types (geography, geometry, hierarchyid and assembly
  // types) all have system_type_id 240, which is no type's user_type_id: for them the base is NULL, and joining
  // only on system_type_id would drop the column.
  // Also what a structural twin needs: collation, computed definition, an alias type's schema (a twin declares the
  // column with the alias, as the table does), ROWGUIDCOL, SPARSE, identity seed and increment (IDENT_SEED /
  // IDENT_INCR of the table, which has at most one identity column: a join of sys.identity_columns listed the column
  // twice on a server whose view repeats rows, Babelfish with two identity tables, and the load declared it twice).
  // encryption_type_desc: an Always Encrypted column's DETERMINISTIC / RANDOMIZED, NULL for any other (sys.columns).
  columns: `SELECT c.name AS [name], COALESCE(bt.name, ty.name) AS [type], ty.name AS [declaredType], ty.is_assembly_type AS [clr],
    c.max_length AS [maxLength], c.precision AS [precision], c.scale AS [scale],
    c.is_nullable AS [nullable], c.is_identity AS [identity], c.is_computed AS [computed], c.generated_always_type AS [generatedAlways], c.collation_name AS [collation],
    cc.definition AS [computedDefinition], cc.is_persisted AS [persisted], dc.definition AS [defaultDefinition],
    CASE WHEN ty.is_user_defined = 1 AND ty.is_assembly_type = 0 THEN SCHEMA_NAME(ty.schema_id) END AS [aliasSchema], c.is_rowguidcol AS [rowGuid], c.is_sparse AS [sparse], c.encryption_type_desc AS [encryption],
    CASE WHEN c.is_identity = 1 THEN CAST(IDENT_SEED(@p1) AS nvarchar(40)) END AS [identitySeed],
    CASE WHEN c.is_identity = 1 THEN CAST(IDENT_INCR(@p1) AS nvarchar(40)) END AS [identityIncrement]
    FROM sys.columns AS c JOIN sys.types AS ty ON ty.user_type_id = c.user_type_id
    LEFT JOIN sys.types AS bt ON bt.user_type_id = c.system_type_id
    LEFT JOIN sys.computed_columns AS cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
    LEFT JOIN sys.default_constraints AS dc ON dc.parent_object_id = c.object_id AND dc.parent_column_id = c.column_id
    WHERE c.object_id = OBJECT_ID(@p1) ORDER BY c.column_id`,
  // Rowstore indexes with their key columns (ASC / DESC), included columns and filter. Not hypothetical ones (what the
  // Database Engine Tuning Advisor leaves behind: statistics only, "cannot be used directly as a data access path",
  // sys.indexes): a twin would build them as real indexes, and a unique one would pass for a key it does not enforce.
  indexes: `SELECT i.name AS [index], i.is_unique AS [unique], i.is_primary_key AS [primaryKey], i.type AS [type], i.is_disabled AS [disabled], c.name AS [column],
    ic.is_descending_key AS [descending], ic.is_included_column AS [included], i.filter_definition AS [filter], ds.name AS [dataSpace]
    FROM sys.indexes AS i JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
    JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
    LEFT JOIN sys.data_spaces AS ds ON ds.data_space_id = i.data_space_id
    WHERE i.object_id = OBJECT_ID(@p1) AND (ic.key_ordinal > 0 OR ic.is_included_column = 1) AND i.type IN (1, 2) AND i.is_hypothetical = 0
    ORDER BY i.index_id, ic.is_included_column, ic.key_ordinal, ic.index_column_id`,
  // Where the heap / clustered index lives (filegroup, or partition scheme and key column), the
  // large-value filegroup, and each thing Microsoft documents as standing in the way of SWITCH (or that a twin
  // built here would not reproduce): keys from or to other tables, non-rowstore indexes, indexed views, full-text
  // indexes, system versioning, memory-optimized tables, change tracking / CDC / replication, and the permissions
  // a twin needs (CREATE TABLE, ALTER on the schema).
  storage: `SELECT ds.name AS [dataSpace], ds.type AS [dataSpaceType], pc.name AS [partitionColumn],
    (SELECT COUNT(*) FROM sys.partitions AS p WHERE p.object_id = t.object_id AND p.index_id = i.index_id) AS [partitions],
    lob.name AS [lobFilegroup],
    (SELECT MIN(OBJECT_SCHEMA_NAME(fk.parent_object_id) + N'.' + OBJECT_NAME(fk.parent_object_id)) FROM sys.foreign_keys AS fk WHERE fk.referenced_object_id = t.object_id) AS [referencedBy],
    (SELECT MIN(fk.name) FROM sys.foreign_keys AS fk WHERE fk.parent_object_id = t.object_id) AS [foreignKey],
    (SELECT MIN(x.name + N' (' + x.type_desc + N')') FROM sys.indexes AS x WHERE x.object_id = t.object_id AND x.type NOT IN (0, 1, 2)) AS [otherIndex],
    ua.name AS [unalignedIndex], ua.dataSpace AS [unalignedSpace],
    (SELECT MIN(x.name) FROM sys.indexes AS x WHERE x.object_id = t.object_id AND x.is_disabled = 1) AS [disabledIndex],
    (SELECT MIN(OBJECT_SCHEMA_NAME(d.referencing_id) + N'.' + OBJECT_NAME(d.referencing_id)) FROM sys.sql_expression_dependencies AS d
      JOIN sys.views AS v ON v.object_id = d.referencing_id JOIN sys.indexes AS vi ON vi.object_id = v.object_id AND vi.index_id = 1
      WHERE d.referenced_id = t.object_id) AS [indexedView],
    CASE WHEN EXISTS (SELECT 1 FROM sys.fulltext_indexes AS f WHERE f.object_id = t.object_id) THEN 1 ELSE 0 END AS [fullText],
    CASE WHEN EXISTS (SELECT 1 FROM sys.change_tracking_tables AS ct WHERE ct.object_id = t.object_id) THEN 1 ELSE 0 END AS [changeTracking],
    (SELECT MIN(sc.name) FROM sys.columns AS sc WHERE sc.object_id = t.object_id AND sc.xml_collection_id > 0) AS [typedXml],
    (SELECT MIN(sc.name) FROM sys.columns AS sc WHERE sc.object_id = t.object_id AND sc.is_filestream = 1) AS [filestream],
    (SELECT MIN(sc.name) FROM sys.columns AS sc WHERE sc.object_id = t.object_id AND sc.is_column_set = 1) AS [columnSet],
    (SELECT MIN(QUOTENAME(SCHEMA_NAME(ty.schema_id)) + N'.' + QUOTENAME(ty.name)) FROM sys.columns AS sc JOIN sys.types AS ty ON ty.user_type_id = sc.user_type_id
      WHERE sc.object_id = t.object_id AND ty.is_user_defined = 1 AND ty.is_assembly_type = 0
      AND HAS_PERMS_BY_NAME(QUOTENAME(SCHEMA_NAME(ty.schema_id)) + N'.' + QUOTENAME(ty.name), 'TYPE', 'REFERENCES') = 0) AS [typeNotReferenced],
    t.temporal_type AS [temporal], t.is_memory_optimized AS [memoryOptimized], t.is_tracked_by_cdc AS [cdc], t.is_replicated AS [replicated],
    t.uses_ansi_nulls AS [ansiNulls], OBJECTPROPERTY(t.object_id, 'IsQuotedIdentOn') AS [quotedIdentifier],
    CASE WHEN EXISTS (SELECT 1 FROM sys.columns AS lc WHERE lc.object_id = t.object_id AND lc.generated_always_type BETWEEN 7 AND 10) THEN 1 ELSE 0 END AS [ledger],
    HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CREATE TABLE') AS [canCreateTable], HAS_PERMS_BY_NAME(SCHEMA_NAME(t.schema_id), 'SCHEMA', 'ALTER') AS [canAlterSchema],
    HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'ALTER') AS [canAlterTable]
    FROM sys.tables AS t JOIN sys.indexes AS i ON i.object_id = t.object_id AND i.index_id IN (0, 1)
    JOIN sys.data_spaces AS ds ON ds.data_space_id = i.data_space_id
    LEFT JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.partition_ordinal = 1
    LEFT JOIN sys.columns AS pc ON pc.object_id = ic.object_id AND pc.column_id = ic.column_id
    LEFT JOIN sys.data_spaces AS lob ON lob.data_space_id = t.lob_data_space_id
    OUTER APPLY (SELECT TOP (1) x.name, xs.name AS dataSpace FROM sys.indexes AS x JOIN sys.data_spaces AS xs ON xs.data_space_id = x.data_space_id
      WHERE ds.type = 'PS' AND x.object_id = t.object_id AND x.type IN (1, 2) AND x.is_hypothetical = 0 AND x.data_space_id <> i.data_space_id ORDER BY x.index_id) AS ua
    WHERE t.object_id = OBJECT_ID(@p1)`,
  // DATA_COMPRESSION of every partition of the heap (index 0) and of each rowstore index: per partition and per index
  // ("Data compression": a table's setting is not applied to its nonclustered indexes; partitions each have their
  // own), and SWITCH refuses partitions whose settings differ (Msg 11406).
  compression: `SELECT i.index_id AS [indexId], i.name AS [index], p.partition_number AS [partition], p.data_compression_desc AS [compression]
    FROM sys.partitions AS p JOIN sys.indexes AS i ON i.object_id = p.object_id AND i.index_id = p.index_id
    WHERE p.object_id = OBJECT_ID(@p1) AND i.type IN (0, 1, 2) ORDER BY i.index_id, p.partition_number`,
  checks: `SELECT cc.name AS [name], cc.definition AS [definition] FROM sys.check_constraints AS cc WHERE cc.parent_object_id = OBJECT_ID(@p1) AND cc.is_disabled = 0 ORDER BY cc.name`,
  partitioning: `SELECT pf.name AS [function], ps.name AS [scheme], pf.boundary_value_on_right AS [rangeRight], c.name AS [column], pf.function_id AS [functionId]
    FROM sys.indexes AS i JOIN sys.partition_schemes AS ps ON ps.data_space_id = i.data_space_id
    JOIN sys.partition_functions AS pf ON pf.function_id = ps.function_id
    JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.partition_ordinal = 1
    JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
    WHERE i.object_id = OBJECT_ID(@p1) AND i.index_id IN (0, 1)`,
  /** Boundary values as text: ISO dates (style 23) for date keys, ODBC canonical with 7 fractional digits
   *  (style 121 of a datetime2(7)) for date-time keys, so a boundary at noon is never read as a day; digits otherwise. */
  boundaries: (family: TypeFamily) =>
    `SELECT rv.boundary_id AS [id], ${
      family === "date" ? "CONVERT(nvarchar(30), CAST(rv.value AS date), 23)" : family === "datetime" ? "CONVERT(nvarchar(30), CAST(rv.value AS datetime2(7)), 121)" : "CAST(rv.value AS nvarchar(30))"
    } AS [value]
    FROM sys.partition_range_values AS rv WHERE rv.function_id = @p1 ORDER BY rv.boundary_id`,
  // sys.foreign_keys: parent_object_id is the referencing table, referenced_object_id the referenced one. Disabled
  // keys (is_disabled) constrain nothing and are left as they are.
  foreignKeys: `SELECT fk.name AS [name], SCHEMA_NAME(c.schema_id) AS [cs], c.name AS [ct], SCHEMA_NAME(r.schema_id) AS [rs], r.name AS [rt],
    pc.name AS [column], rc.name AS [refColumn]
    FROM sys.foreign_keys AS fk JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id
    JOIN sys.tables AS c ON c.object_id = fk.parent_object_id JOIN sys.tables AS r ON r.object_id = fk.referenced_object_id
    JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
    JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
    WHERE fk.is_disabled = 0 AND (fk.parent_object_id = OBJECT_ID(@p1) OR fk.referenced_object_id = OBJECT_ID(@p1))
    ORDER BY [cs], [ct], fk.name, fkc.constraint_column_id`,
  triggers: `SELECT tr.name AS [name] FROM sys.triggers AS tr WHERE tr.parent_id = OBJECT_ID(@p1) AND tr.is_disabled = 0 AND tr.is_ms_shipped = 0 ORDER BY tr.name`,
  // A default NEXT VALUE FOR a sequence is a dependency of the default constraint on the sequence.
  sequences: `SELECT DISTINCT c.name AS [column], SCHEMA_NAME(sq.schema_id) AS [schema], sq.name AS [name]
    FROM sys.default_constraints AS dc JOIN sys.columns AS c ON c.object_id = dc.parent_object_id AND c.column_id = dc.parent_column_id
    JOIN sys.sql_expression_dependencies AS d ON d.referencing_id = dc.object_id
    JOIN sys.sequences AS sq ON sq.object_id = d.referenced_id
    WHERE dc.parent_object_id = OBJECT_ID(@p1) ORDER BY [column], [schema], [name]`,
  // HAS_PERMS_BY_NAME: 1 when the login holds the permission on the object (TRUNCATE TABLE needs ALTER). CREATE: a
  // staging table in the table's schema (CREATE TABLE in the database and ALTER on the schema); SEQUENCE: ALTER on
  // every sequence the table's defaults draw from (ALTER SEQUENCE ... RESTART). Only the privileges asked for are
  // evaluated: the source is asked for SELECT alone, and the SEQUENCE test reads three catalog views.
  privileges: (wanted: readonly Privilege[]) => `SELECT ${[...new Set(wanted)].map((p) => `${PRIVILEGE_TESTS[p]} AS [${p}]`).join(", ")}`,
  // A temporal table's other half: the history table of a system-versioned one (temporal_type 2), the
  // system-versioned table of a history table (1), and the updatable ledger table of a ledger history table (whose
  // temporal_type is 0). Asked only for those, so other tables pay nothing.
  temporalPair: `SELECT CASE t.temporal_type WHEN 2 THEN OBJECT_SCHEMA_NAME(t.history_table_id) + N'.' + OBJECT_NAME(t.history_table_id)
    ELSE (SELECT TOP (1) SCHEMA_NAME(p.schema_id) + N'.' + p.name FROM sys.tables AS p WHERE p.history_table_id = t.object_id) END AS [pair]
    FROM sys.tables AS t WHERE t.object_id = OBJECT_ID(@p1)`,
  // Row-level security (SQL Server 2016+): the enabled security policies' predicates on the table. SQL Server applies
  // them to every login, db_owner and the table's owner too ("Row-level security", Microsoft Learn); a predicate's
  // logic (whether it lets this login see every row) is a function the catalog cannot evaluate for rows it hides.
  // Whether the server has security policies and dynamic data masks at all: system views have object ids (SQL Server
  // 2016+; a TDS server without them answers NULL). Referencing a missing view would fail the query (208, or the
  // server's own number).
  securityViews: `SELECT OBJECT_ID(N'sys.security_predicates') AS [policies], OBJECT_ID(N'sys.masked_columns') AS [masks]`,
  rowSecurity: `SELECT SCHEMA_NAME(sp.schema_id) + '.' + sp.name AS [policy], pr.predicate_type_desc AS [kind], pr.predicate_definition AS [predicate]
    FROM sys.security_predicates AS pr JOIN sys.security_policies AS sp ON sp.object_id = pr.object_id
    WHERE pr.target_object_id = OBJECT_ID(@p1) AND sp.is_enabled = 1 ORDER BY [policy], pr.security_predicate_id`,
  // Dynamic data masking (SQL Server 2016+): the table's masked columns this login reads masked. "Users with SELECT
  // permission on a table can view the table data. Columns that are defined as masked, will display the masked data",
  // and "using SELECT INTO or INSERT INTO to copy data from a masked column into another table results in masked data
  // in the target table" ("Dynamic data masking", Microsoft Learn); an expression over one is masked too, a checksum
  // included. UNMASK lifts it: on the database (CONTROL, so db_owner, includes it), and from SQL Server 2022
  // on a schema, table or column. HAS_PERMS_BY_NAME answers NULL "when the securable class or permission is not
  // valid", as UNMASK on an object is before 2022: then the database's UNMASK decides. A sub-securable is named
  // without brackets (HAS_PERMS_BY_NAME, Microsoft Learn).
  maskedColumns: `SELECT c.name AS [column], c.masking_function AS [mask] FROM sys.masked_columns AS c
    WHERE c.object_id = OBJECT_ID(@p1) AND c.is_masked = 1
      AND COALESCE(HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'UNMASK', c.name, 'COLUMN'), HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'UNMASK'), 0) = 0
    ORDER BY c.column_id`,
  // Requests of the run's sessions (named by their program name) waiting for a lock (LCK_M_*), each with the session
  // in its way (blocking_session_id). A login without VIEW SERVER STATE sees only its own session: then none.
  lockWaits: `SELECT ws.program_name AS [waiter], CONVERT(varchar(19), DATEADD(millisecond, -r.wait_time, SYSUTCDATETIME()), 126) + 'Z' AS [since],
      bs.login_name AS [user], NULLIF(bs.program_name, '') AS [application],
      (SELECT TOP (1) c.client_net_address FROM sys.dm_exec_connections AS c WHERE c.session_id = bs.session_id) AS [client],
      CASE WHEN bs.open_transaction_count > 0 AND bs.status = 'sleeping' THEN 'sleeping in an open transaction' ELSE bs.status END AS [state]
    FROM sys.dm_exec_requests AS r JOIN sys.dm_exec_sessions AS ws ON ws.session_id = r.session_id
    JOIN sys.dm_exec_sessions AS bs ON bs.session_id = r.blocking_session_id
    WHERE r.database_id = DB_ID() AND r.blocking_session_id > 0 AND r.wait_type LIKE 'LCK[_]M[_]%' AND CHARINDEX(@p1, ws.program_name) = 1
    ORDER BY r.session_id, bs.session_id`,
  filegroups: `SELECT dds.destination_id AS [number], fg.name AS [filegroup]
    FROM sys.destination_data_spaces AS dds JOIN sys.filegroups AS fg ON fg.data_space_id = dds.data_space_id
    JOIN sys.partition_schemes AS ps ON ps.data_space_id = dds.partition_scheme_id
    WHERE ps.name = @p1 ORDER BY dds.destination_id`,
};

const FAMILIES: Record<string, TypeFamily> = {
  tinyint: "integer", smallint: "integer", int: "integer", bigint: "integer",
  decimal: "decimal", numeric: "decimal", money: "decimal", smallmoney: "decimal",
  float: "float", real: "float",
  date: "date", datetime: "datetime", datetime2: "datetime", smalldatetime: "datetime", datetimeoffset: "datetime",
  char: "text", varchar: "text", nchar: "text", nvarchar: "text", text: "text", ntext: "text", uniqueidentifier: "text",
  bit: "boolean", binary: "binary", varbinary: "binary", image: "binary",
};

export function nativeType(r: { type: string; maxLength: number; precision: number; scale: number }): string {
  const t = r.type.toLowerCase();
  const len = (n: number) => (r.maxLength === -1 ? "max" : String(n));
  if (t === "varchar" || t === "char" || t === "varbinary" || t === "binary") return `${t}(${len(r.maxLength)})`;
  if (t === "nvarchar" || t === "nchar") return `${t}(${len(r.maxLength / 2)})`;
  if (t === "decimal" || t === "numeric") return `${t}(${r.precision},${r.scale})`;
  if (t === "datetime2" || t === "time" || t === "datetimeoffset") return `${t}(${r.scale})`;
  return t;
}

interface StorageRow {
  dataSpace: string; dataSpaceType: string; partitionColumn: string | null; partitions: number; lobFilegroup: string | null;
  referencedBy: string | null; foreignKey: string | null; otherIndex: string | null; unalignedIndex?: string | null; unalignedSpace?: string | null; disabledIndex?: string | null;
  indexedView: string | null; fullText: number; changeTracking: number;
  typedXml?: string | null; filestream?: string | null; columnSet?: string | null; typeNotReferenced?: string | null; ansiNulls?: boolean | number | null; quotedIdentifier?: number | null;
  temporal: number; memoryOptimized: boolean; cdc: boolean; replicated: boolean; ledger?: number; canCreateTable: number | null; canAlterSchema: number | null; canAlterTable: number | null;
}

/** Tables that take no SWITCH whatever the server can do (Microsoft Learn: "Partition switching", "Ledger
 *  considerations and limitations"). */
const NO_SWITCH = {
  systemVersioned: "it is system-versioned (SWITCH needs SYSTEM_VERSIONING off, which a refresh does not change)",
  ledger: "it is a ledger table (SWITCH IN / OUT is not supported for ledger tables)",
};

/** What stands in the way of exchanging the table's rows by SWITCH, each said with its reason (Microsoft's
 *  "partition switching" requirements, or what the twin built here does not reproduce). */
export function switchBlockers(r: StorageRow): string[] {
  const out: string[] = [];
  if (r.referencedBy) out.push(`a foreign key of ${r.referencedBy} references it (SWITCH refuses a table another table's key points to)`);
  if (r.foreignKey) out.push(`it has the foreign key ${r.foreignKey} (SWITCH needs the same trusted key on the twin; the twin is built without keys)`);
  if (r.otherIndex) out.push(`index ${r.otherIndex} is not a rowstore index (the twin is built with rowstore indexes only)`);
  if (r.disabledIndex) out.push(`index ${r.disabledIndex} is disabled (a twin would build it enabled, and SWITCH exchanges rows only between tables with the same indexes)`);
  // Of a partitioned table every index must be partitioned as the table is, "aligned" (Msg 7733: "The table is
  // partitioned while index ... is not partitioned"); a unique index without the partition key has to be elsewhere.
  if (r.unalignedIndex) out.push(`index ${r.unalignedIndex} is not partitioned as the table is (it is on ${r.unalignedSpace}, the table on ${r.dataSpace}; SWITCH needs every index aligned)`);
  if (r.indexedView) out.push(`the indexed view ${r.indexedView} is built on it (SWITCH would need the view's index on the twin too)`);
  if (Number(r.fullText)) out.push("it has a full-text index (the twin is built without one)");
  if (r.typedXml) out.push(`its xml column ${r.typedXml} is typed by an XML schema collection (the twin declares xml columns untyped; SWITCH needs the same collection)`);
  if (r.filestream) out.push(`its column ${r.filestream} is FILESTREAM (the twin is built without a FILESTREAM filegroup)`);
  if (r.columnSet) out.push(`it has the column set ${r.columnSet} (the twin is built without one)`);
  // CREATE TABLE: "If any columns ... are defined to be of a user-defined type, REFERENCES permission on the
  // user-defined type is required"; a twin declares its columns with the table's alias types.
  if (r.typeNotReferenced) out.push(`the target login lacks REFERENCES on the type ${r.typeNotReferenced}, which a twin's column is declared with (CREATE TABLE needs it)`);
  // "The tables must have the same ANSI_NULLS and QUOTED IDENTIFIER settings"; this product's sessions create twins
  // with both ON (tedious' defaults). Unknown (NULL, as some servers answer) is no obstacle.
  for (const [setting, value] of [["ANSI_NULLS", r.ansiNulls], ["QUOTED_IDENTIFIER", r.quotedIdentifier]] as const)
    if (value !== undefined && value !== null && !Number(value)) out.push(`it was created with ${setting} OFF (the twin is created with it ON; SWITCH needs both tables alike)`);
  if (Number(r.temporal) === 1) out.push("it is the history table of a system-versioned table (SWITCH needs SYSTEM_VERSIONING off, which a refresh does not change)");
  if (Number(r.temporal) === 2) out.push(NO_SWITCH.systemVersioned);
  if (r.memoryOptimized) out.push("it is memory-optimized (memory-optimized tables cannot be switched)");
  if (Number(r.ledger ?? 0)) out.push(NO_SWITCH.ledger);
  if (r.cdc) out.push("change data capture tracks it (a switch bypasses what CDC records)");
  if (Number(r.changeTracking)) out.push("change tracking is enabled on it (a switch bypasses what it tracks)");
  if (r.replicated) out.push("it is published for replication (a switch bypasses replication)");
  if (Number(r.canAlterTable) !== 1) out.push("the target login lacks ALTER on it (SWITCH needs it)");
  if (Number(r.canCreateTable) !== 1 || Number(r.canAlterSchema) !== 1) out.push("the target login cannot create the twin (CREATE TABLE in the database and ALTER on the schema)");
  return out;
}

export interface IntrospectorOptions {
  /** The connection's `rowSecurityExempt` option: an administrator's word that the security policies' predicates
   *  let this login see and change every row (the catalog cannot tell). */
  rowSecurityExempt?: boolean;
  /** false: indexes() leaves out their DATA_COMPRESSION (a source session: only UAT's indexes are ever built again,
   *  as twins and staging tables, so production's compression would be a question asked for nothing). */
  indexCompression?: boolean;
}

/** Why a memory-optimized table is refused (Microsoft Learn: "Transactions with memory-optimized tables"). */
const MEMORY_OPTIMIZED =
  "it is memory-optimized (In-Memory OLTP), which refreshes do not support yet: production is read in a SNAPSHOT transaction, in which SQL Server refuses to read one (Msg 41332), and UAT is written in one explicit transaction, in which SQL Server writes one only under a WITH (SNAPSHOT) hint (Msg 41368)";

/** Why a system-versioned table's history table is never a target (Microsoft Learn, "Temporal table security":
 *  while SYSTEM_VERSIONING is ON, history data cannot be modified, whatever the user's permissions). */
const historyTable = (current: string | null) =>
  `it is the history table of a system-versioned table${current ? ` (${current})` : ""}: while SYSTEM_VERSIONING is ON, SQL Server lets no one write it, whatever their permissions (refresh the system-versioned table instead; its history follows it)`;

/** What a system-versioned table keeps of a refresh: DELETE and UPDATE move the old rows into its history table
 *  (Microsoft Learn, "Modify data in a system-versioned temporal table"), and TRUNCATE is refused for it (13545). */
const systemVersioned = (history: string | null) =>
  `UAT's table is system-versioned: SQL Server keeps every row this refresh deletes or updates in its history table${history ? ` ${history}` : ""} (a full replace: the whole table, each time)`;

/** Why an append-only ledger table is never a target (Microsoft Learn, "Append-only ledger tables": they "allow only
 *  INSERT operations"; UPDATE and DELETE fail with Msg 37359, and TRUNCATE is not supported on any ledger table). */
const APPEND_ONLY_LEDGER =
  "it is an append-only ledger table: SQL Server takes only INSERTs into it, whoever asks (no UPDATE, DELETE or TRUNCATE), and a refresh replaces or updates rows";

/** Why an updatable ledger table's history table is never a target (Microsoft Learn, "Ledger considerations and
 *  limitations": deleting data in the history table of an updatable ledger table "isn't supported", nor is TRUNCATE
 *  TABLE of a ledger table); the rows a refresh of the ledger table removes are the ones its history keeps. */
const ledgerHistoryTable = (ledgerTable: string | null) =>
  `it is the history table of an updatable ledger table${ledgerTable ? ` (${ledgerTable})` : ""}: SQL Server lets no one delete its rows or truncate it, whatever their permissions, as the ledger's tamper evidence (refresh the ledger table instead; its history follows it)`;

/** What an updatable ledger table keeps of a refresh: every row a DELETE or UPDATE removes stays in its ledger
 *  history table, and the table can be neither truncated nor switched (Microsoft Learn, "Updatable ledger tables",
 *  "Ledger considerations and limitations"). */
const UPDATABLE_LEDGER =
  "UAT's table is an updatable ledger table: SQL Server keeps every row this refresh deletes or updates in its ledger history, which nothing can remove (a full replace: the whole table, each time, by DELETE)";

export function sqlServerIntrospector(query: Query, options: IntrospectorOptions = {}): Introspector {
  let views: Promise<{ policies: boolean; masks: boolean }> | undefined;
  /** Which of the security catalog views the server has, asked once per session. */
  const securityViews = () =>
    (views ??= query<{ policies: number | null; masks: number | null }>(SQL.securityViews, []).then(([r]) => ({ policies: r?.policies != null, masks: r?.masks != null })));

  /** Per-partition DATA_COMPRESSION of the heap / clustered index (`table`) and of each index by name. */
  async function compressionOf(table: TableRef) {
    const rows = await query<{ indexId: number; index: string | null; partition: number; compression: string }>(SQL.compression, [qualified(table)]);
    const table_: string[] = [];
    const byIndex = new Map<string, string[]>();
    for (const r of rows) {
      const value = String(r.compression ?? "NONE").toUpperCase();
      const n = Number(r.partition) - 1;
      if (Number(r.indexId) <= 1) table_[n] = value;
      if (r.index) (byIndex.get(r.index) ?? byIndex.set(r.index, []).get(r.index)!)[n] = value;
    }
    const dense = (xs: string[]) => Array.from(xs, (x) => x ?? "NONE");
    return { table: dense(table_), byIndex: new Map([...byIndex].map(([k, v]) => [k, dense(v)])) };
  }

  return {
    async findTable(name, schema) {
      const [r] = await query<TableRef & { memoryOptimized?: boolean | number | null; temporal?: number | null; ledger?: number | null }>(SQL.findTable, [name, schema ?? null]);
      if (!r) return null;
      const temporal = Number(r.temporal ?? 0);
      const ledger = Number(r.ledger ?? 0);
      const pair = temporal || ledger === 1 ? ((await query<{ pair: string | null }>(SQL.temporalPair, [qualified(r)]))[0]?.pair ?? null) : null;
      return {
        schema: r.schema,
        name: r.name,
        ...(Number(r.memoryOptimized ?? 0) !== 0 && { unsupported: MEMORY_OPTIMIZED }),
        ...(temporal === 1 && { unwritable: historyTable(pair) }),
        ...(temporal === 2 && { keepsHistory: systemVersioned(pair), switchRefused: NO_SWITCH.systemVersioned }),
        ...(ledger === 1 && { unwritable: ledgerHistoryTable(pair) }),
        ...(ledger === 3 && { unwritable: APPEND_ONLY_LEDGER }),
        ...(ledger === 2 && { keepsHistory: UPDATABLE_LEDGER, switchRefused: NO_SWITCH.ledger }),
      } satisfies FoundTable;
    },

    async columns(table) {
      const rows = await query<{
        name: string; type: string; declaredType: string; clr: boolean; maxLength: number; precision: number; scale: number; nullable: boolean; identity: boolean; computed: boolean;
        generatedAlways?: number | null; defaultDefinition?: string | null; collation?: string | null; computedDefinition?: string | null; persisted?: boolean | null; identitySeed?: string | null; identityIncrement?: string | null;
        aliasSchema?: string | null; rowGuid?: boolean | null; sparse?: boolean | null; encryption?: string | null;
      }>(
        SQL.columns,
        [qualified(table)],
      );
      return rows.map<ColumnInfo>((r) => ({
        name: r.name,
        // CLR types keep their declared name (geography, dbo.MyUdt): no length or precision applies to them.
        nativeType: r.clr ? r.declaredType : nativeType(r),
        family: r.clr ? "other" : (FAMILIES[r.type.toLowerCase()] ?? "other"),
        nullable: !!r.nullable,
        identity: !!r.identity,
        // rowversion (timestamp) values are generated by the target on every insert, like computed columns', and so are
        // GENERATED ALWAYS columns (a system-versioned table's period, a ledger table's transaction columns):
        // generated_always_type 0 is NOT_APPLICABLE (Microsoft Learn, sys.columns), and inserting a value into one is
        // refused (Msg 13536).
        generated: !!r.computed || r.type.toLowerCase() === "timestamp" || Number(r.generatedAlways ?? 0) !== 0,
        ...(r.collation ? { collation: r.collation } : {}),
        ...(r.computedDefinition ? { computed: { definition: r.computedDefinition, persisted: !!r.persisted } } : {}),
        ...(r.defaultDefinition ? { default: r.defaultDefinition } : {}),
        ...(r.identity && r.identitySeed ? { identitySeed: r.identitySeed, identityIncrement: r.identityIncrement ?? "1" } : {}),
        ...(r.aliasSchema ? { declaredType: `${quoteIdent(r.aliasSchema)}.${quoteIdent(r.declaredType)}` } : {}),
        ...(r.rowGuid ? { rowGuid: true } : {}),
        ...(r.sparse ? { sparse: true } : {}),
        ...(r.encryption ? { encryption: r.encryption } : {}),
      }));
    },

    async indexes(table) {
      const rows = await query<{ index: string; unique: boolean; primaryKey: boolean; type: number; disabled?: boolean; column: string; descending?: boolean; included?: boolean; filter?: string | null; dataSpace?: string | null }>(SQL.indexes, [qualified(table)]);
      const byName = new Map<string, IndexInfo>();
      for (const r of rows) {
        const ix = byName.get(r.index) ?? {
          name: r.index, columns: [], unique: !!r.unique, primaryKey: !!r.primaryKey, clustered: Number(r.type) === 1,
          ...(r.filter ? { filter: r.filter } : {}), ...(r.dataSpace ? { dataSpace: r.dataSpace } : {}), ...(r.disabled ? { disabled: true } : {}),
        };
        if (r.included) ix.include = [...(ix.include ?? []), r.column];
        else {
          ix.columns.push(r.column);
          if (r.descending) ix.descending = [...(ix.descending ?? []), r.column];
        }
        byName.set(r.index, ix);
      }
      if (options.indexCompression === false) return [...byName.values()];
      const compression = await compressionOf(table);
      for (const ix of byName.values()) {
        const c = compression.byIndex.get(ix.name);
        if (c?.some((x) => x !== "NONE")) ix.compression = c;
      }
      return [...byName.values()];
    },

    async foreignKeys(table) {
      const rows = await query<{ name: string; cs: string; ct: string; rs: string; rt: string; column: string; refColumn: string }>(SQL.foreignKeys, [qualified(table)]);
      const byKey = new Map<string, ForeignKey>();
      for (const r of rows) {
        const id = `${r.cs}.${r.ct}.${r.name}`;
        const fk = byKey.get(id) ?? { name: r.name, table: { schema: r.cs, name: r.ct }, columns: [], referenced: { schema: r.rs, name: r.rt }, referencedColumns: [] };
        fk.columns.push(r.column);
        fk.referencedColumns.push(r.refColumn);
        byKey.set(id, fk);
      }
      return [...byKey.values()];
    },

    async triggers(table) {
      return (await query<{ name: string }>(SQL.triggers, [qualified(table)])).map((r) => r.name);
    },

    async storage(table) {
      const [r] = await query<StorageRow>(SQL.storage, [qualified(table)]);
      const compression = await compressionOf(table);
      if (!r) return { dataSpace: { filegroup: "PRIMARY" }, blockers: [`${qualified(table)} has no heap or clustered index in sys.indexes`] };
      return {
        dataSpace: r.dataSpaceType === "PS" ? { scheme: r.dataSpace, column: r.partitionColumn ?? "", partitions: Number(r.partitions) } : { filegroup: r.dataSpace },
        ...(r.lobFilegroup ? { lobFilegroup: r.lobFilegroup } : {}),
        ...(compression.table.some((x) => x !== "NONE") ? { compression: compression.table } : {}),
        blockers: switchBlockers(r),
      };
    },

    async checks(table) {
      return query<CheckInfo>(SQL.checks, [qualified(table)]);
    },

    async missingPrivileges(table, wanted) {
      if (!wanted.length) return [];
      const [r] = await query<Record<string, number | null>>(SQL.privileges(wanted), [qualified(table)]);
      return r ? wanted.filter((p: Privilege) => Number(r[p]) !== 1) : wanted;
    },

    async lockWaits(sessionPrefix) {
      return lockWaitsFrom(await query<LockWaitRow>(SQL.lockWaits, [sessionPrefix]));
    },

    async rowSecurity(table) {
      if (options.rowSecurityExempt) return null;
      if (!(await securityViews()).policies) return null;
      const rows = await query<{ policy: string; kind: string; predicate: string }>(SQL.rowSecurity, [qualified(table)]);
      if (!rows.length) return null;
      return {
        policies: rows.map((r) => `security policy ${r.policy}: ${String(r.kind).toUpperCase()} ${r.predicate}`),
        filtersReads: rows.some((r) => String(r.kind).toUpperCase() === "FILTER"),
      };
    },

    async maskedColumns(table) {
      if (!(await securityViews()).masks) return [];
      return query<MaskedColumn>(SQL.maskedColumns, [qualified(table)]);
    },

    async sequences(table) {
      const rows = await query<{ column: string; schema: string; name: string }>(SQL.sequences, [qualified(table)]);
      return rows.map<SequenceUse>((r) => ({ column: r.column, sequence: { schema: r.schema, name: r.name } }));
    },

    async partitioning(table) {
      const [pf] = await query<{ function: string; scheme: string; rangeRight: boolean; column: string; functionId: number }>(SQL.partitioning, [qualified(table)]);
      if (!pf) return null;
      const columnType = columnNamed(await this.columns(table), pf.column, table);
      const bounds = (await query<{ id: number; value: string }>(SQL.boundaries(columnType.family), [pf.functionId])).map((b) => b.value);
      const filegroups = new Map((await query<{ number: number; filegroup: string }>(SQL.filegroups, [pf.scheme])).map((f) => [Number(f.number), f.filegroup]));
      const compression = (await compressionOf(table)).table;
      // Partition k lies between boundaries k-1 and k ([ ) for RANGE RIGHT, ( ] for RANGE LEFT); the first and the
      // last are open-ended. Numbered as $PARTITION numbers them.
      const partitions: PartitionInfo[] = Array.from({ length: bounds.length + 1 }, (_, i) => ({
        name: String(i + 1),
        number: i + 1,
        lower: i === 0 ? null : bounds[i - 1],
        upper: i === bounds.length ? null : bounds[i],
        isDefault: false,
        filegroup: filegroups.get(i + 1),
        ...(compression[i] && compression[i] !== "NONE" ? { compression: compression[i] } : {}),
      }));
      return { column: pf.column, columnType, partitions, functionName: pf.function, schemeName: pf.scheme, rangeRight: !!pf.rangeRight };
    },
  };
}
