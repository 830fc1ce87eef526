import { redirect } from "next/navigation";
import { configuredProviders, signIn } from "@/server/auth";
import { currentUser } from "@/server/session";

export const metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ error?: string; callbackUrl?: string }> }) {
  const { error, callbackUrl } = await searchParams;
  // currentUser (not just a session): a deactivated user with a live token must land here, not loop.
  if (await currentUser()) redirect("/");
  const providers = configuredProviders().map((p) => {
    const cfg = typeof p === "function" ? p() : p;
    return { id: cfg.id, name: cfg.name };
  });
  return (
    <main className="mx-auto mt-24 max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="text-xl font-semibold">UAT Refresh</h1>
      <p className="mt-1 text-sm text-slate-600">Sign in with your organisation&apos;s account.</p>
      {error && (
        <p role="alert" className="mt-4 rounded bg-red-50 p-2 text-sm text-red-700">
          {error === "AccessDenied" ? "Your account is deactivated or has no email address." : `Sign-in failed (${error}).`}
        </p>
      )}
      <div className="mt-6 space-y-2">
        {providers.length === 0 && <p className="text-sm text-red-700">No identity provider is configured: set AUTH_OIDC_ISSUER (see docs/configuration.md).</p>}
        {providers.map((p) => (
          <form
            key={p.id}
            action={async () => {
              "use server";
              await signIn(p.id, { redirectTo: callbackUrl?.startsWith("/") ? callbackUrl : "/" });
            }}
          >
            <button type="submit" className="w-full rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white hover:bg-slate-700">
              Sign in with {p.name}
            </button>
          </form>
        ))}
      </div>
    </main>
  );
}
