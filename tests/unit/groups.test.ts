// Refresh group planning (lib/engine/groups.ts): which tables refresh together, in which order, which keys are
// suspended, which parents are merged, and which referencing tables refuse a run.
import { describe, expect, it } from "vitest";
import type { ForeignKey, TableRef } from "../../lib/dialects/types";
import { describeGroup, planGroups, type Member, type WriteKind } from "../../lib/engine/groups";

const t = (name: string): TableRef => ({ schema: "public", name });
const m = (name: string, kind: WriteKind = "replace"): Member => ({ name, target: t(name), kind });
const fk = (child: string, parent: string, name = `${child}_${parent}_fkey`): ForeignKey => ({ name, table: t(child), columns: [`${parent}_id`], referenced: t(parent), referencedColumns: ["id"] });

describe("refresh groups", () => {
  it("tables with no keys between them stay apart; related ones load parents first whatever the configuration order", () => {
    const plan = planGroups([m("items"), m("orders"), m("customers"), m("currencies")], [fk("items", "orders"), fk("orders", "customers")], []);
    expect(plan.groups.map((g) => g.members.map((x) => x.name))).toEqual([["customers", "orders", "items"], ["currencies"]]);
    expect(plan.groups[0].suspended).toEqual([]);
    expect(plan.groups[0].merged.size).toBe(0);
  });

  it("a cycle is broken at the first table in configuration order and its forward key suspended; self-references too", () => {
    const keys = [fk("employees", "stores", "employees_store_fk"), fk("stores", "employees", "stores_manager_fk"), fk("employees", "employees", "employees_manager_fk")];
    const [g] = planGroups([m("employees"), m("stores")], keys, []).groups;
    expect(g.members.map((x) => x.name)).toEqual(["employees", "stores"]);
    expect(g.suspended.map((k) => k.name).sort()).toEqual(["employees_manager_fk", "employees_store_fk"]);
    expect(describeGroup(g)).toBe("employees -> stores; checked after the load: employees_store_fk, employees_manager_fk");
  });

  it("a parent is merged, never emptied, under children that keep rows, and the merge climbs to the grandparents", () => {
    const keys = [fk("customers", "regions"), fk("orders", "customers"), fk("payments", "orders"), fk("items", "orders"), fk("items", "products")];
    const [g] = planGroups([m("regions"), m("customers"), m("orders", "window"), m("items"), m("products"), m("payments", "append")], keys, []).groups;
    expect([...g.merged].sort()).toEqual(["customers", "orders", "regions"]);
    // products' only child (items) is emptied and reloaded with it: products is replaced, not merged.
    expect(g.merged.has("products")).toBe(false);
  });

  it("a member whose keep rule keeps some of UAT's rows is merged, and so are the tables its kept rows reference; alone it is not", () => {
    const keys = [fk("items", "orders"), fk("items", "products"), fk("orders", "customers")];
    const [g] = planGroups([m("customers"), m("orders"), m("products"), { ...m("items"), keepsByRule: true }], keys, []).groups;
    expect([...g.merged].sort()).toEqual(["customers", "items", "orders", "products"]);
    expect(describeGroup(g)).toContain("items (merged)");
    // Without keys to other members it runs as a table of its own (which keeps its rows by rule itself).
    const alone = planGroups([{ ...m("settings"), keepsByRule: true }], [], []).groups;
    expect(alone.map((x) => [x.members.length, x.merged.size])).toEqual([[1, 0]]);
  });

  it("a keep rule on a table without a key to merge on: emptied but for its kept rows, and the tables they reference merge", () => {
    const keys = [fk("notes", "orders"), fk("orders", "customers")];
    const [g] = planGroups([m("customers"), m("orders"), { ...m("notes"), keepsByRule: true, keepsWithoutKey: true }], keys, []).groups;
    expect([...g.partlyEmptied]).toEqual(["notes"]);
    expect([...g.merged].sort()).toEqual(["customers", "orders"]);
    expect(describeGroup(g)).toBe("customers (merged) -> orders (merged) -> notes (its kept rows stay)");
    // One whose own children keep rows must be merged after all (its plan then asks for a key).
    const [h] = planGroups([m("orders"), { ...m("notes"), keepsByRule: true, keepsWithoutKey: true }, { ...m("replies"), keepsByRule: true }], [fk("notes", "orders"), fk("replies", "notes")], []).groups;
    expect([...h.partlyEmptied]).toEqual([]);
    expect([...h.merged].sort()).toEqual(["notes", "orders", "replies"]);
  });

  it("a date window with children always merges (its delete could hit rows children use)", () => {
    const [g] = planGroups([m("orders", "window"), m("items")], [fk("items", "orders")], []).groups;
    expect([...g.merged]).toEqual(["orders"]);
  });

  it("a table outside the run: configured ones keep their rows (the parent merges), unconfigured ones are named", () => {
    const keys = [fk("notes", "customers"), fk("orders", "customers"), fk("audit", "products")];
    const plan = planGroups([m("customers"), m("products"), m("log", "append")], [...keys, fk("x", "log")], [t("orders")]);
    const customers = plan.groups.find((g) => g.members[0].name === "customers")!;
    expect(customers.merged.has("customers")).toBe(true);
    expect(customers.keepers.get("customers")!.map((k) => k.name)).toEqual(["orders_customers_fkey"]);
    expect(plan.outside.map((o) => [o.member, o.key.name])).toEqual([["customers", "notes_customers_fkey"], ["products", "audit_products_fkey"]]);
    // An append-only table loses no rows: tables referencing it are no concern.
    expect(plan.outside.some((o) => o.member === "log")).toBe(false);
  });
});
