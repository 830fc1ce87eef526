"use client";

// The notifications a run caused. They are sent after the run ends (and retried with backoff), so this keeps
// looking while any is still on its way.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { RunDelivery } from "@/lib/runs";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatTime } from "@/components/ui/format";

export function RunNotifications({ runId, initial, runEndedAt }: { runId: string; initial: RunDelivery[]; runEndedAt: string | null }) {
  const [mounted] = useState(() => Date.now());
  const q = useQuery({
    queryKey: ["run-notifications", runId],
    queryFn: async () => (await (await fetch(`/api/runs/${runId}/notifications`)).json()) as RunDelivery[],
    initialData: initial,
    refetchInterval: (query) => {
      const open = (query.state.data ?? []).some((d) => d.status === "pending" || d.status === "retrying");
      // A run still going (or just ended) may cause notifications any moment; stop looking after 10 minutes.
      const recent = Date.now() - (runEndedAt ? new Date(runEndedAt).getTime() : mounted) < 120_000 || (!runEndedAt && Date.now() - mounted < 600_000);
      return open || recent ? 2_000 : false;
    },
  });
  if (!q.data.length) return null;
  return (
    <section aria-label="Notifications" className="mt-4 rounded-lg border border-slate-200 bg-white p-4 text-sm">
      <h2 className="mb-2 font-medium">Notifications</h2>
      <ul className="space-y-1">
        {q.data.map((d) => (
          <li key={d.id} data-testid={`delivery-${d.channel}`}>
            <span className="font-medium">{d.channel}</span> ({d.kind}, {d.event.replace("_", " ")}): <StatusBadge status={d.status === "sent" ? "ok" : d.status} /> {d.status}
            {d.attempts > 1 ? ` after ${d.attempts} attempts` : ""}
            {d.sentAt ? ` at ${formatTime(d.sentAt)}` : ""}
            {d.lastError && d.status !== "sent" ? <span className="text-red-700"> · {d.lastError}</span> : ""}
          </li>
        ))}
      </ul>
    </section>
  );
}
