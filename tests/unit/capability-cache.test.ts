// SQL Server's capability probe, kept per database, version and login for a while (lib/dialects/sqlserver/capability-cache).
import { describe, expect, it } from "vitest";
import { CAPABILITIES_KEPT_MS, capabilityKey, keepCapabilities, keptCapabilities } from "../../lib/dialects/sqlserver/capability-cache";

const found = { switch: false, partitionDdl: false, updateStatistics: true, notes: ["ALTER TABLE ... SWITCH: refused"] };

describe("the capability probe's answer, kept", () => {
  it("is taken for the same database, version and login until it is CAPABILITIES_KEPT_MS old, never for another", () => {
    const key = capabilityKey("sqlserver:uat01|7", "Developer Edition 16.0.4135.4", "uat_refresh");
    expect(keptCapabilities(key, 1_000)).toBeUndefined();
    keepCapabilities(key, found, 1_000);
    expect(keptCapabilities(key, 1_000 + CAPABILITIES_KEPT_MS - 1)).toBe(found);
    // An upgrade, another login, another database: probed again.
    expect(keptCapabilities(capabilityKey("sqlserver:uat01|7", "Developer Edition 16.0.4140.3", "uat_refresh"), 2_000)).toBeUndefined();
    expect(keptCapabilities(capabilityKey("sqlserver:uat01|7", "Developer Edition 16.0.4135.4", "uat_admin"), 2_000)).toBeUndefined();
    expect(keptCapabilities(capabilityKey("sqlserver:uat01|8", "Developer Edition 16.0.4135.4", "uat_refresh"), 2_000)).toBeUndefined();
    // A grant or a revoke since shows once the answer has aged out.
    expect(keptCapabilities(key, 1_000 + CAPABILITIES_KEPT_MS)).toBeUndefined();
    expect(keptCapabilities(key, 1_000)).toBeUndefined();
  });

  it("keys cannot collide through the names in them", () => {
    expect(capabilityKey("a|b", "c", "d")).not.toBe(capabilityKey("a", "b|c", "d"));
  });
});
