// A login without the privileges a refresh needs is refused in the plan (the dry run says so), naming the
// privilege, the table and why, before anything is written: read from the catalog's own answer on real PostgreSQL.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../lib/config/schema";
import { importConfig } from "../../lib/config/store";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

describe("privileges, checked in the plan", () => {
  let env: TestEnv;
  let admin: pg.Client;
  const role = `uat_loader_${randomBytes(3).toString("hex")}`;
  const configure = async (fire_triggers = false, tables: Record<string, unknown>[] = [{ name: "items", strategy: "simple_copy", sync_mode: "full_replace", fire_triggers }]) => {
    const u = new URL(env.sourceUrl);
    const side = (url: string) => ({ engine: "postgres", server: u.hostname, port: Number(u.port), database: new URL(url).pathname.slice(1), username_env: "UAT_REFRESH_DB_LOADER_USER", password_env: "UAT_REFRESH_DB_LOADER_PASSWORD" });
    await importConfig(env.db, configSchema.parse({
      databases: { source: side(env.sourceUrl), target: side(env.targetUrl) },
      tables,
      settings: { max_retries: 0 },
    }));
  };
  const dryRun = () => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun: true });

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'loader-pw'`);
    for (const c of [env.source, env.target]) await c.query(`CREATE TABLE items (id int PRIMARY KEY, v text); GRANT USAGE ON SCHEMA public TO ${role}`);
    await env.source.query(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g; GRANT SELECT ON items TO ${role}`);
    await env.target.query(`GRANT SELECT, INSERT ON items TO ${role}`);
    process.env.UAT_REFRESH_DB_LOADER_USER = role;
    process.env.UAT_REFRESH_DB_LOADER_PASSWORD = "loader-pw";
  });
  afterAll(async () => {
    await env?.close();
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
    await admin?.end();
  });

  it("names a missing TRUNCATE, then lets the refresh through once it is granted", async () => {
    await configure();
    const refused = await dryRun();
    expect(refused.status).toBe("failed");
    expect(refused.tables[0].error).toBe("the target login lacks TRUNCATE (to empty it) on public.items");
    await env.target.query(`GRANT TRUNCATE ON items TO ${role}`);
    expect((await dryRun()).status).toBe("succeeded");
    const real = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(real.status, real.tables[0].error).toBe("succeeded");
    expect(await fingerprint(env.target, "items")).toEqual(await fingerprint(env.source, "items"));
  });

  it("a table with triggers needs its owner to disable them, unless fire_triggers says they may run", async () => {
    await env.target.query(`CREATE FUNCTION nop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER nop BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION nop()`);
    const refused = await dryRun();
    expect(refused.tables[0].error).toBe("the target login lacks ALTER (PostgreSQL: be the table's owner or a member of its owner role) (to disable its triggers during the load) on public.items");
    expect(refused.tables[0].hint).toMatch(/set fire_triggers: true/);
    await configure(true);
    expect((await dryRun()).status).toBe("succeeded");
  });

  it("staging tables need CREATE on the table's schema and moving a sequence needs UPDATE on it: both named at once", async () => {
    for (const c of [env.source, env.target]) await c.query(`CREATE SEQUENCE ticket_no; CREATE TABLE tickets (id int PRIMARY KEY DEFAULT nextval('ticket_no'), v text)`);
    await env.source.query(`INSERT INTO tickets (v) SELECT 'v' || g FROM generate_series(1, 50) g; GRANT SELECT ON tickets TO ${role}`);
    await env.target.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO ${role}; REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await configure(false, [{ name: "tickets", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" }]);
    const refused = await dryRun();
    expect(refused.tables[0].error).toBe(
      "the target login lacks CREATE on schema public (to create its staging table), UPDATE on the sequences its columns draw from (to move them past the copied values) on public.tickets",
    );
    await env.target.query(`GRANT CREATE ON SCHEMA public TO ${role}; GRANT UPDATE ON SEQUENCE ticket_no TO ${role}`);
    expect((await dryRun()).status).toBe("succeeded");
    const real = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(real.status, real.tables[0].error).toBe("succeeded");
    expect(await fingerprint(env.target, "tickets")).toEqual(await fingerprint(env.source, "tickets"));
    await configure(true);
  });

  it("row-level security that would hide production rows from the source login fails the table in the plan, instead of a partial copy said to succeed", async () => {
    // The trigger of the test before is still on UAT's items and may fire (configure(true)).
    await configure(true);
    await env.source.query(`ALTER TABLE items ENABLE ROW LEVEL SECURITY; CREATE POLICY low_ids ON items FOR SELECT TO ${role} USING (id <= 50)`);
    const before = await fingerprint(env.target, "items");
    try {
      for (const run of [dryRun, () => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" })]) {
        const r = await run();
        expect(r.status).toBe("failed");
        // Said in the plan, naming the policy (the session's row_security=off would also refuse the read itself).
        expect(r.tables[0].error).toBe("row-level security on public.items (policy low_ids) filters what the source login reads: the copy would hold only the rows it allows");
        expect(r.tables[0].hint).toMatch(/BYPASSRLS/);
      }
      expect(await fingerprint(env.target, "items")).toEqual(before);
    } finally {
      await env.source.query("DROP POLICY low_ids ON items; ALTER TABLE items DISABLE ROW LEVEL SECURITY");
    }
  });

  it("row-level security on UAT's table (a policy testers work under) that the target login is subject to fails the table in the plan, UAT as it was", async () => {
    await configure(true);
    const before = await fingerprint(env.target, "items");
    await env.target.query(`ALTER TABLE items ENABLE ROW LEVEL SECURITY; CREATE POLICY testers_rows ON items TO ${role} USING (id <= 50)`);
    try {
      for (const run of [dryRun, () => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" })]) {
        const r = await run();
        expect(r.status).toBe("failed");
        expect(r.tables[0].error).toBe("row-level security on public.items (policy testers_rows) applies to the target login: it would write and empty only the rows its policies allow");
        expect(r.tables[0].hint).toMatch(/BYPASSRLS/);
      }
      expect(await fingerprint(env.target, "items")).toEqual(before);
      // The owner bypasses it, unless the table forces it on its owner too.
      await env.target.query(`ALTER TABLE items OWNER TO ${role}`);
      expect((await dryRun()).status).toBe("succeeded");
      await env.target.query("ALTER TABLE items FORCE ROW LEVEL SECURITY");
      expect((await dryRun()).tables[0].error).toMatch(/^row-level security on public.items \(policy testers_rows\) applies/);
    } finally {
      await env.target.query(`ALTER TABLE items NO FORCE ROW LEVEL SECURITY; ALTER TABLE items OWNER TO CURRENT_USER`);
      await env.target.query("DROP POLICY testers_rows ON items; ALTER TABLE items DISABLE ROW LEVEL SECURITY");
    }
  });

  it("the source login needs SELECT", async () => {
    await env.source.query(`REVOKE SELECT ON items FROM ${role}`);
    const refused = await dryRun();
    expect(refused.tables[0].error).toBe("the source login lacks SELECT on public.items");
  });
});
