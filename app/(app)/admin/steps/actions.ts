"use server";

import { revalidatePath } from "next/cache";
import { changeSteps, type StepList } from "@/server/steps";
import { refuseAction, requireActionRole } from "@/server/session";
import { formEnvironment } from "@/server/environment";

export interface StepFormState {
  errors: string[];
  saved?: string;
}

/** The step of the form: a new one, or the one named `original` changed. */
export async function saveStepAction(prev: StepFormState, form: FormData): Promise<StepFormState> {
  const user = await requireActionRole("admin", "edit post-refresh step");
  const original = String(form.get("original") ?? "");
  const step = {
    name: String(form.get("name") ?? "").trim(),
    sql: String(form.get("sql") ?? ""),
    tables: form.getAll("tables").map(String),
    enabled: form.get("enabled") === "on",
    description: String(form.get("description") ?? "").trim() || undefined,
  };
  const clean = { ...step, tables: step.tables.length ? step.tables : undefined };
  const { errors } = await changeSteps(
    await formEnvironment(user, form),
    (steps) => {
      const i = original ? steps.findIndex((s) => s.name === original) : -1;
      if (i < 0) return [...steps, clean];
      steps[i] = clean;
      return steps;
    },
    { actor: user.label, action: original ? "step.update" : "step.create", target: step.name },
  );
  if (errors.length) return { errors };
  revalidatePath("/admin/steps");
  return { errors: [], saved: step.name };
}

async function change(environment: string, what: string, action: string, name: string, fn: (steps: StepList) => StepList) {
  const user = await requireActionRole("admin", what);
  const { errors } = await changeSteps(environment, fn, { actor: user.label, action, target: name });
  if (errors.length) await refuseAction(user, what, errors.join("; "));
  revalidatePath("/admin/steps");
}

export async function deleteStepAction(environment: string, name: string) {
  await change(environment, "delete post-refresh step", "step.delete", name, (steps) => steps.filter((s) => s.name !== name));
}

export async function setStepEnabledAction(environment: string, name: string, enabled: boolean) {
  await change(environment, "edit post-refresh step", enabled ? "step.enable" : "step.disable", name, (steps) => steps.map((s) => (s.name === name ? { ...s, enabled } : s)));
}

/** Moves a step one place earlier (-1) or later (+1): steps run in their order. */
export async function moveStepAction(environment: string, name: string, by: -1 | 1) {
  await change(environment, "reorder post-refresh steps", "step.move", name, (steps) => {
    const i = steps.findIndex((s) => s.name === name);
    const j = i + by;
    if (i < 0 || j < 0 || j >= steps.length) return steps;
    [steps[i], steps[j]] = [steps[j], steps[i]];
    return steps;
  });
}
