import Link from "next/link";

export default function Unauthorized() {
  return (
    <main className="mx-auto mt-24 max-w-md text-center">
      <h1 className="text-2xl font-semibold">401: signed out</h1>
      <p className="mt-2 text-slate-600">Your session has ended. Sign in again to continue.</p>
      <Link href="/login" className="mt-4 inline-block text-blue-700 underline">
        Sign in
      </Link>
    </main>
  );
}
