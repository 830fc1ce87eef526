"use server";

import { revalidatePath } from "next/cache";
import { audit } from "@/lib/audit";
import { fieldErrors } from "@/lib/config/schema";
import { metadata } from "@/lib/metadata/client";
import { channelSchema } from "@/lib/notify/channels";
import { requireActionRole } from "@/server/session";

export interface ChannelFormState {
  errors: Record<string, string>;
  saved?: string;
}

/** The fields worth an audit's before/after (never a resolved secret: env:NAME stays a name). */
function auditable(c: { name: string; kind: string; target: string; events: string[]; longRunMinutes: number | null; lagHours: number | null; environments: string[]; enabled: boolean }) {
  return { name: c.name, kind: c.kind, target: c.target, events: c.events, longRunMinutes: c.longRunMinutes, lagHours: c.lagHours, environments: c.environments, enabled: c.enabled };
}

const intOrNull = (v: FormDataEntryValue | null) => (v === null || String(v).trim() === "" ? null : Number(v));

export async function saveChannelAction(_prev: ChannelFormState, form: FormData): Promise<ChannelFormState> {
  const user = await requireActionRole("admin", "edit notification channel");
  const parsed = channelSchema.safeParse({
    name: form.get("name"),
    kind: form.get("kind"),
    target: form.get("target"),
    events: form.getAll("events").map(String),
    longRunMinutes: intOrNull(form.get("longRunMinutes")),
    lagHours: intOrNull(form.get("lagHours")),
    environments: form.getAll("environments").map(String),
    enabled: form.get("enabled") === "on",
  });
  if (!parsed.success) return { errors: fieldErrors(parsed.error) };
  const c = parsed.data;
  const db = metadata();
  const id = String(form.get("id") ?? "");
  const before = id ? await db.notificationChannel.findUnique({ where: { id } }) : null;
  const clash = await db.notificationChannel.findUnique({ where: { name: c.name } });
  if (clash && clash.id !== id) return { errors: { name: `name: a channel named ${c.name} already exists` } };
  if (before) await db.notificationChannel.update({ where: { id }, data: c });
  else await db.notificationChannel.create({ data: c });
  await audit({ actor: user.label, action: before ? "notification.update" : "notification.create", target: c.name, details: { before: before && auditable(before), after: auditable(c) } });
  revalidatePath("/admin/notifications");
  return { errors: {}, saved: c.name };
}

export async function deleteChannelAction(id: string) {
  const user = await requireActionRole("admin", "delete notification channel");
  const db = metadata();
  const before = await db.notificationChannel.findUniqueOrThrow({ where: { id } });
  await db.notificationChannel.delete({ where: { id } });
  await audit({ actor: user.label, action: "notification.delete", target: before.name, details: { before: auditable(before), after: null } });
  revalidatePath("/admin/notifications");
}
