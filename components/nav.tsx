import Link from "next/link";
import type { AppUser } from "@/server/session";
import { hasRole } from "@/lib/roles";
import { signOut } from "@/server/auth";

const LINKS = [
  { href: "/", label: "Dashboard", role: "viewer" },
  { href: "/runs", label: "Runs", role: "viewer" },
  { href: "/audit", label: "Audit trail", role: "viewer" },
  { href: "/admin/tables", label: "Tables", role: "admin" },
  { href: "/admin/masking", label: "Masking", role: "admin" },
  { href: "/admin/schedules", label: "Schedules", role: "admin" },
  { href: "/admin/steps", label: "Steps", role: "admin" },
  { href: "/admin/notifications", label: "Notifications", role: "admin" },
  { href: "/admin/users", label: "Users", role: "admin" },
  { href: "/admin/tokens", label: "Tokens", role: "admin" },
] as const;

export function Nav({ user }: { user: AppUser }) {
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
        <Link href="/" className="font-semibold">
          UAT Refresh
        </Link>
        <nav aria-label="Main" className="flex flex-wrap gap-4 text-sm">
          {LINKS.filter((l) => hasRole(user.role, l.role)).map((l) => (
            <Link key={l.href} href={l.href} className="text-slate-600 hover:text-slate-900">
              {l.label}
            </Link>
          ))}
        </nav>
        <div className="ml-auto flex items-center gap-3 text-sm">
          <span data-testid="current-user">
            {user.name ?? user.email} <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700">{user.role}</span>
          </span>
          <form
            action={async () => {
              "use server";
              await signOut({ redirectTo: "/login" });
            }}
          >
            <button type="submit" className="text-slate-600 underline hover:text-slate-900">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
