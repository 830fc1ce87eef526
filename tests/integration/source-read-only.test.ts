// Production is never written: each injection the review ran against the demo, tried on a real PostgreSQL source as
// a superuser (so no privilege stands in the way and only the product's own guards do): through the configuration,
// through the masking preview (unsaved rules), and past both, straight at the source session. The source is
// compared by count and checksum before and after.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema, formatIssues } from "../../lib/config/schema";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { postgresCompiler } from "../../lib/dialects/postgres/compiler";
import { openSession } from "../../lib/engine/connections";
import { previewMasking } from "../../lib/engine/masking/preview";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

registerBuiltInDialects();

const ATTACK = "'x'); COMMIT; SET TRANSACTION READ WRITE; UPDATE users SET email = 'pwned'; SELECT ('x'";

describe("the source is read by construction (PostgreSQL)", () => {
  let env: TestEnv;
  let before: { count: number; sum: string };
  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY = "read-only-test-key-0123456789";
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)");
    await env.source.query("INSERT INTO users SELECT g, 'user' || g || '@corp.example' FROM generate_series(1, 100) g");
    before = await fingerprint(env.source, "users");
  });
  afterAll(() => env?.close());

  const unchanged = async () => {
    expect(await fingerprint(env.source, "users")).toEqual(before);
    expect((await env.source.query("SELECT count(*)::int AS n FROM users WHERE email = 'pwned'")).rows[0].n).toBe(0);
  };

  it("a configuration carrying the attack is refused with its field path", async () => {
    const config = await env.config([{ name: "users", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const bad = configSchema.safeParse({ ...config, tables: [{ name: "users", masking: [{ column: "email", rule: "sql", expression: ATTACK }] }] });
    expect(bad.success).toBe(false);
    expect(formatIssues(bad.error!)).toEqual([expect.stringMatching(/^tables\[0\]\.masking\[0\]\.expression: a statement separator \(;\) is not allowed at character 5$/)]);
    await unchanged();
  });

  it("the masking preview of an unsaved rule refuses it before anything reaches the source", async () => {
    const config = await env.config([{ name: "users", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const table = { ...config.tables[0], masking: [{ column: "email", rule: "sql" as const, expression: ATTACK }] };
    await expect(previewMasking(config, table)).rejects.toThrow(/masking: the sql rule of email: a statement separator/);
    const quiet = { ...config.tables[0], masking: [{ column: "email", rule: "sql" as const, expression: "email || (SELECT 'x')" }] };
    await expect(previewMasking(config, quiet)).rejects.toThrow(/SELECT is not allowed/);
    await unchanged();
  });

  it("past every check, the source session itself runs no second statement (COPY's SELECT parsed on the extended protocol)", async () => {
    const config = await env.config([{ name: "users", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const source = await openSession(config.databases.source, "source", config.settings, { kind: "check" });
    try {
      const columns = await source.introspector.columns({ schema: "public", name: "users" });
      const injected = postgresCompiler.selectRows({ schema: "public", name: "users" }, columns, undefined, undefined, undefined, { email: ATTACK });
      // wrapped as the COPY wraps it, the text cannot even be parsed as one statement: refused before the COPY is sent
      await expect(source.exportRows(injected)).rejects.toThrow(/syntax error at or near ";"|cannot insert multiple commands/);
      await expect(source.query({ sql: "SELECT 1; UPDATE users SET email = 'pwned'", params: [] })).rejects.toThrow(/cannot insert multiple commands/);
      await expect(source.execute({ sql: "COMMIT; SET TRANSACTION READ WRITE; UPDATE users SET email = 'pwned'", params: [] })).rejects.toThrow(/cannot insert multiple commands/);
      // and one statement that writes is still refused by the session's read-only transactions
      await expect(source.execute({ sql: "UPDATE users SET email = 'pwned'", params: [] })).rejects.toThrow(/read-only transaction/);
      // the guarded path still reads
      const rows = await source.exportRows(postgresCompiler.selectRows({ schema: "public", name: "users" }, columns));
      let n = 0;
      for await (const chunk of rows.stream) n += (chunk as Buffer).toString().split("\n").length - 1;
      expect(n).toBe(100);
    } finally {
      await source.close();
    }
    await unchanged();
  });
});
