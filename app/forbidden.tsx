import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="mx-auto mt-24 max-w-md text-center">
      <h1 className="text-2xl font-semibold">403: not allowed</h1>
      <p className="mt-2 text-slate-600">Your role does not allow this page. An administrator can change your role.</p>
      <Link href="/" className="mt-4 inline-block text-blue-700 underline">
        Back to the dashboard
      </Link>
    </main>
  );
}
