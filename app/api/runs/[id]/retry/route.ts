import { NextResponse } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { retryScope, RetryRefusedError } from "@/lib/run-retry";
import { startRunAnswering } from "@/server/run-trigger";
import { requireApiCaller, requireEnvironmentRole } from "@/server/session";

/** Refreshes again the tables of an ended run that did not succeed, in its environment, as the same kind of run (a
 *  dry run's retry plans again); the tables are read from the run on the server. Operators of the run's environment
 *  and admins only. */
export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const id = (await params).id;
  const what = `refresh again what run ${id} did not finish`;
  const signedIn = await requireApiCaller(req, "viewer", what, { mutation: true, details: { retryOf: id } });
  if (signedIn instanceof NextResponse) return signedIn;
  const run = await metadata().refreshRun.findUnique({ where: { id }, select: { environment: true } });
  // An unknown run: only someone who may trigger somewhere learns that it does not exist.
  const user = await requireEnvironmentRole(signedIn, "operator", run?.environment ?? "", what, { retryOf: id });
  if (user instanceof NextResponse) return user;
  try {
    return await startRunAnswering(user, await retryScope(metadata(), id));
  } catch (e) {
    if (e instanceof RetryRefusedError) return NextResponse.json({ error: e.message }, { status: e.status });
    throw e;
  }
}
