"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { formatTime } from "@/components/ui/format";
import { useHydrated } from "@/components/ui/use-hydrated";

/** A run awaiting approval: until when, and (for an operator of its environment other than the requester) the
 *  decision. The decision goes to POST /api/runs/[id]/approval. */
export function ApprovalPanel({ runId, expiresAt, requestedBy, canDecide, why }: { runId: string; expiresAt: string | null; requestedBy: string; canDecide: boolean; why?: string }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function decide(decision: "approve" | "reject") {
    setBusy(true);
    setError(null);
    const res = await fetch(`/api/runs/${runId}/approval`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ decision, ...(note.trim() ? { note: note.trim() } : {}) }) });
    setBusy(false);
    if (!res.ok) return setError((await res.json().catch(() => ({}))).error ?? `HTTP ${res.status}`);
    router.refresh();
  }
  return (
    <section className="mb-4 rounded-lg border border-violet-200 bg-violet-50 p-4 text-sm" data-testid="approval">
      <p>
        Awaiting approval: requested by <strong>{requestedBy}</strong>; expires {expiresAt ? formatTime(expiresAt) : "–"}. Another operator of this environment approves (the run is then queued) or rejects it.
      </p>
      {canDecide ? (
        <div className="mt-3 flex flex-wrap items-center gap-2">
          <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="note (optional)" aria-label="Decision note" className="w-72 rounded border border-slate-300 px-2 py-1" />
          <button type="button" disabled={!hydrated || busy} onClick={() => decide("approve")} className="rounded bg-emerald-700 px-3 py-1 text-white disabled:opacity-50">Approve</button>
          <button type="button" disabled={!hydrated || busy} onClick={() => decide("reject")} className="rounded border border-red-700 px-3 py-1 text-red-800 disabled:opacity-50">Reject</button>
        </div>
      ) : (
        why && <p className="mt-2 text-slate-600">{why}</p>
      )}
      {error && <p role="alert" className="mt-2 rounded bg-red-50 p-2 text-red-800">{error}</p>}
    </section>
  );
}
