// Post-refresh steps administration: every change to the list goes through one function that validates the whole
// configuration with it (the config schema: field paths, tables named, parameters readable), saves it only if nobody
// changed the list meanwhile, and audits it with before/after.
import "server-only";
import { audit } from "@/lib/audit";
import { configSchema, formatIssues, postRefreshStepSchema, type PostRefreshStepInput } from "@/lib/config/schema";
import { exportConfig, rowToStep, stepToRow } from "@/lib/config/store";
import { metadata } from "@/lib/metadata/client";

export type StepList = PostRefreshStepInput[];

/** Applies `change` to the configured steps; errors are messages with field paths (`post_refresh_steps[1].sql: ...`). */
export async function changeSteps(
  environment: string,
  change: (steps: StepList) => StepList,
  audited: { actor: string; action: string; target: string },
): Promise<{ errors: string[] }> {
  const db = metadata();
  const config = await exportConfig(db, environment);
  const before = config.post_refresh_steps ?? [];
  const parsed = configSchema.safeParse({ ...config, post_refresh_steps: change(structuredClone(before)) });
  if (!parsed.success) return { errors: formatIssues(parsed.error) };
  const after = parsed.data.post_refresh_steps ?? [];
  const saved = await db.$transaction(async (tx) => {
    // Saved only if the list is still the one read (two admins at once): no lost update. One change at a time.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`uat-refresh post-refresh steps ${environment}`}))`;
    const rows = await tx.postRefreshStep.findMany({ where: { environment }, orderBy: [{ position: "asc" }, { name: "asc" }] });
    const now = rows.map((r) => postRefreshStepSchema.parse(rowToStep(r)));
    if (JSON.stringify(now) !== JSON.stringify(before)) return false;
    await tx.postRefreshStep.deleteMany({ where: { environment } });
    await tx.postRefreshStep.createMany({ data: after.map((s, i) => ({ environment, ...stepToRow(s, i) })) });
    return true;
  });
  if (!saved) return { errors: ["the post-refresh steps were changed by someone else meanwhile: reload the page and try again"] };
  await audit({ actor: audited.actor, environment, action: audited.action, target: audited.target, details: JSON.parse(JSON.stringify({ before, after })) });
  return { errors: [] };
}
