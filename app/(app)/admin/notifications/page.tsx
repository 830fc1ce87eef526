import { ChannelForm } from "@/components/admin/channel-form";
import { environmentNames } from "@/lib/config/store";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatTime } from "@/components/ui/format";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { EVENT_LABELS, type NotifyEvent } from "@/lib/notify/channels";
import { deleteChannelAction, saveChannelAction } from "./actions";
import { requirePageRole } from "@/server/session";
import { ConfirmButton } from "@/components/ui/confirm-button";

export const metadata = { title: "Notifications" };

export default async function NotificationsPage() {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "notification channels");

  const channels = await metadataDb().notificationChannel.findMany({
    orderBy: { name: "asc" },
    include: { deliveries: { orderBy: { createdAt: "desc" }, take: 5 } },
  });
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Notifications</h1>
      <p className="text-sm text-slate-600">
        Email goes through the SMTP server of <code>SMTP_URL</code> (from <code>SMTP_FROM</code>); a webhook URL may be given as <code>env:NAME</code> so the secret stays in
        the environment. Failed sends are retried with backoff; each attempt is recorded.
      </p>
      {channels.length === 0 ? <p className="text-slate-600">No channels yet.</p> : (
        <ul className="space-y-3">
          {channels.map((c) => (
            <li key={c.id} className="rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid={`channel-${c.name}`}>
              <div className="flex flex-wrap items-center gap-3">
                <h2 className="font-medium">{c.name}</h2>
                <span>{c.kind}</span>
                <code className="rounded bg-slate-100 px-1">{c.kind === "email" || c.target.startsWith("env:") ? c.target : new URL(c.target).origin + "/…"}</code>
                <span>{c.enabled ? "enabled" : "disabled"}</span>
                <form action={deleteChannelAction.bind(null, c.id)} className="ml-auto"><ConfirmButton className="text-xs text-red-700 underline" message={`Delete the channel ${c.name}?`}>Delete</ConfirmButton></form>
              </div>
              <p className="mt-1 text-xs text-slate-600">
                {c.events.map((e) => EVENT_LABELS[e as NotifyEvent]?.replace("N minutes", `${c.longRunMinutes} minutes`).replace("N hours", `${c.lagHours} hours`) ?? e).join(" · ")}
                {" · "}
                {c.environments.length ? `in ${c.environments.join(", ")}` : "in every environment"}
              </p>
              {c.deliveries.length > 0 && (
                <ul className="mt-2 text-xs">
                  {c.deliveries.map((d) => (
                    <li key={d.id}>{formatTime(d.createdAt)} <StatusBadge status={d.status === "sent" ? "ok" : d.status} /> {d.subject}{d.lastError ? ` (${d.lastError})` : ""}</li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
      <ChannelForm action={saveChannelAction} environments={await environmentNames(metadataDb())} />
    </section>
  );
}
