"use client";
// A destructive form's submit button that asks first: one click must not delete a table's configuration and its
// decisions (masking, personal data, kept references), a schedule, a step or a channel. Disabled until the page's
// scripts run: a server action's form submits without them, and so would skip the question.
import type { ReactNode } from "react";
import { useHydrated } from "./use-hydrated";

export function ConfirmButton({ message, className, label, children }: { message: string; className?: string; label?: string; children: ReactNode }) {
  const hydrated = useHydrated();
  return (
    <button type="submit" disabled={!hydrated} className={className} aria-label={label} onClick={(e) => { if (!window.confirm(message)) e.preventDefault(); }}>
      {children}
    </button>
  );
}
