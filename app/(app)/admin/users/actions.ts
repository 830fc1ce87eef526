"use server";

import { revalidatePath } from "next/cache";
import { audit } from "@/lib/audit";
import { metadata } from "@/lib/metadata/client";
import { ROLES, type RoleName } from "@/lib/roles";
import { refuseAction, requireActionRole } from "@/server/session";

export async function setRoleAction(userId: string, form: FormData) {
  const admin = await requireActionRole("admin", "change user role");
  const role = String(form.get("role")) as RoleName;
  if (!ROLES.includes(role)) await refuseAction(admin, "change user role", `role must be one of ${ROLES.join(", ")}`);
  const db = metadata();
  const before = await db.user.findUnique({ where: { id: userId } });
  if (!before) return refuseAction(admin, "change user role", `no user ${userId}`);
  if (before.id === admin.id && role !== "admin") await refuseAction(admin, "change user role", "you cannot remove your own admin role (ask another admin)");
  await db.user.update({ where: { id: userId }, data: { role } });
  await audit({ actor: admin.label, action: "user.role", target: before.email ?? before.name ?? before.id, details: { before: { role: before.role }, after: { role } } });
  revalidatePath("/admin/users");
}

export async function setActiveAction(userId: string, active: boolean) {
  const admin = await requireActionRole("admin", "deactivate user");
  const db = metadata();
  const before = await db.user.findUnique({ where: { id: userId } });
  if (!before) return refuseAction(admin, "deactivate user", `no user ${userId}`);
  if (before.id === admin.id && !active) await refuseAction(admin, "deactivate user", "you cannot deactivate yourself");
  await db.user.update({ where: { id: userId }, data: { active } });
  await audit({ actor: admin.label, action: active ? "user.activate" : "user.deactivate", target: before.email ?? before.name ?? before.id, details: { before: { active: before.active }, after: { active } } });
  revalidatePath("/admin/users");
}

/** Sets a user's role in one environment (viewer or operator; "default" removes the grant: their installation-wide
 *  role applies there again). */
export async function setGrantAction(userId: string, form: FormData) {
  const admin = await requireActionRole("admin", "change user grant");
  const environment = String(form.get("environment") ?? "");
  const role = String(form.get("role") ?? "");
  const db = metadata();
  const user = await db.user.findUnique({ where: { id: userId }, include: { grants: true } });
  if (!user) return refuseAction(admin, "change user grant", `no user ${userId}`);
  if (!(await db.environment.findUnique({ where: { name: environment } }))) return refuseAction(admin, "change user grant", `no environment ${environment}`);
  if (role !== "default" && role !== "viewer" && role !== "operator") return refuseAction(admin, "change user grant", "a grant is viewer or operator (admin is installation-wide)");
  const before = user.grants.find((g) => g.environment === environment)?.role ?? null;
  if (role === "default") await db.environmentGrant.deleteMany({ where: { userId, environment } });
  else await db.environmentGrant.upsert({ where: { userId_environment: { userId, environment } }, create: { userId, environment, role, grantedBy: admin.label }, update: { role, grantedBy: admin.label } });
  await audit({ actor: admin.label, environment, action: "user.grant", target: user.email ?? user.name ?? user.id, details: { before: { role: before }, after: { role: role === "default" ? null : role } } });
  revalidatePath("/admin/users");
}
