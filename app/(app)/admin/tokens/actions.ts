"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createApiToken, revokeApiToken } from "@/lib/auth/tokens";
import { formatIssues } from "@/lib/config/schema";
import { metadata } from "@/lib/metadata/client";
import { requireActionRole } from "@/server/session";

export interface TokenFormState {
  errors: string[];
  /** The new token, shown this once. */
  created?: { name: string; token: string };
}

export async function createTokenAction(_prev: TokenFormState, form: FormData): Promise<TokenFormState> {
  const admin = await requireActionRole("admin", "create service token");
  try {
    const { token, row } = await createApiToken(
      metadata(),
      { name: String(form.get("name") ?? ""), role: form.get("role") as "viewer" | "operator", environments: form.getAll("environments").map(String), expires_in_days: Number(form.get("expires_in_days")) },
      admin.label,
    );
    revalidatePath("/admin/tokens");
    return { errors: [], created: { name: row.name, token } };
  } catch (e) {
    if (e instanceof z.ZodError) return { errors: formatIssues(e) };
    if ((e as { code?: string }).code === "P2002") return { errors: ["name: a token with this name exists (names identify tokens in the audit trail)"] };
    throw e;
  }
}

export async function revokeTokenAction(id: string) {
  const admin = await requireActionRole("admin", "revoke service token");
  await revokeApiToken(metadata(), id, admin.label);
  revalidatePath("/admin/tokens");
}
