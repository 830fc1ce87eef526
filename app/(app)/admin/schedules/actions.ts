"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { audit } from "@/lib/audit";
import { fieldErrors } from "@/lib/config/schema";
import { metadata } from "@/lib/metadata/client";
import { validate as nodeCronAccepts } from "node-cron";
import { cronError } from "@/lib/scheduler/cron";
import { reloadSchedules } from "@/server/scheduler";
import { requireActionRole } from "@/server/session";
import { formEnvironment } from "@/server/environment";

const scheduleSchema = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(100),
    cron: z.string().trim().min(1, "must not be empty"),
    timezone: z.string().trim().min(1).default("UTC"),
    scope: z.enum(["all", "tables"]),
    tables: z.array(z.string()).default([]),
    enabled: z.boolean(),
    preApproved: z.boolean(),
  })
  .superRefine((s, ctx) => {
    const err = cronError(s.cron, s.timezone) ?? (nodeCronAccepts(s.cron) ? null : "is not a valid cron expression for the scheduler (node-cron)");
    if (err) ctx.addIssue({ code: "custom", path: [err.startsWith("timezone") ? "timezone" : "cron"], message: err });
    if (s.scope === "tables" && s.tables.length === 0) ctx.addIssue({ code: "custom", path: ["tables"], message: "choose at least one table" });
  });

export interface ScheduleFormState {
  errors: Record<string, string>;
  saved?: string;
}

export async function saveScheduleAction(prev: ScheduleFormState, form: FormData): Promise<ScheduleFormState> {
  const user = await requireActionRole("admin", "edit schedule");
  const parsed = scheduleSchema.safeParse({
    name: form.get("name"),
    cron: form.get("cron"),
    timezone: form.get("timezone") || "UTC",
    scope: form.get("scope"),
    tables: form.getAll("tables").map(String),
    enabled: form.get("enabled") === "on",
    preApproved: form.get("pre_approved") === "on",
  });
  if (!parsed.success) return { errors: fieldErrors(parsed.error) };
  const s = parsed.data;
  const db = metadata();
  const id = String(form.get("id") ?? "");
  const before = id ? await db.schedule.findUnique({ where: { id } }) : null;
  // A schedule stays in its environment; a new one goes to the page's.
  const environment = before?.environment ?? (await formEnvironment(user, form));
  const known = new Set((await db.tableConfig.findMany({ where: { environment }, select: { name: true } })).map((t) => t.name));
  const missing = s.tables.filter((t) => !known.has(t));
  if (missing.length) return { errors: { tables: `tables: unknown table(s) ${missing.join(", ")}` } };
  const data = { ...s, tables: s.scope === "tables" ? s.tables : [] };
  const clash = await db.schedule.findUnique({ where: { name: s.name } });
  if (clash && clash.id !== id) return { errors: { name: `name: a schedule named ${s.name} already exists` } };
  if (before) await db.schedule.update({ where: { id }, data });
  else await db.schedule.create({ data: { ...data, env: { connect: { name: environment } } } });
  await audit({
    actor: user.label,
    environment,
    action: before ? "schedule.update" : "schedule.create",
    target: s.name,
    details: JSON.parse(JSON.stringify({ before: before && { cron: before.cron, timezone: before.timezone, scope: before.scope, tables: before.tables, enabled: before.enabled, preApproved: before.preApproved }, after: data })),
  });
  await reloadSchedules();
  revalidatePath("/admin/schedules");
  return { errors: {}, saved: s.name };
}

export async function deleteScheduleAction(id: string) {
  const user = await requireActionRole("admin", "delete schedule");
  const db = metadata();
  const before = await db.schedule.findUniqueOrThrow({ where: { id } });
  await db.schedule.delete({ where: { id } });
  await audit({ actor: user.label, environment: before.environment, action: "schedule.delete", target: before.name, details: { before: { cron: before.cron, timezone: before.timezone, scope: before.scope, tables: before.tables }, after: null } });
  await reloadSchedules();
  revalidatePath("/admin/schedules");
}

export async function setScheduleEnabledAction(id: string, enabled: boolean) {
  const user = await requireActionRole("admin", "edit schedule");
  const db = metadata();
  const before = await db.schedule.update({ where: { id }, data: { enabled } });
  await audit({ actor: user.label, environment: before.environment, action: enabled ? "schedule.enable" : "schedule.disable", target: before.name, details: { before: { enabled: !enabled }, after: { enabled } } });
  await reloadSchedules();
  revalidatePath("/admin/schedules");
}
