// Which environment a page, server action or route handler acts on: the `env` of its URL or form, or the only one.
// Pages fall back to the first environment (the overview links to the others); actions and APIs must name one when
// several exist, so nothing is written to an environment the user did not see.
import "server-only";
import { notFound } from "next/navigation";
import { environmentNames, resolveEnvironment } from "@/lib/config/store";
import { EnvironmentChoiceError } from "@/lib/config/environments";
import { metadata } from "@/lib/metadata/client";
import { NextResponse } from "next/server";
import { refuseAction, type AppUser } from "./session";

export interface PageEnvironment {
  /** The environment shown (null: none configured yet). */
  current: string | null;
  all: string[];
}

/** For pages: `?env=` (an unknown name is a 404), else the first environment. */
export async function pageEnvironment(asked: string | string[] | undefined): Promise<PageEnvironment> {
  const all = await environmentNames(metadata());
  const name = Array.isArray(asked) ? asked[0] : asked;
  if (name && !all.includes(name)) notFound();
  return { current: name ?? all[0] ?? null, all };
}

/** For actions and APIs: the named environment, or the only one; a clear error otherwise. */
export async function requestEnvironment(asked: FormDataEntryValue | string | null | undefined): Promise<string> {
  return resolveEnvironment(metadata(), typeof asked === "string" && asked ? asked : undefined);
}

export { EnvironmentChoiceError };

/** For route handlers: the named environment (or the only one), or the 400 that says which exist. */
export async function apiEnvironment(asked: string | null | undefined): Promise<string | NextResponse> {
  try {
    return await requestEnvironment(asked);
  } catch (e) {
    if (e instanceof EnvironmentChoiceError) return NextResponse.json({ error: e.message }, { status: 400 });
    throw e;
  }
}

/** For server actions: the form's `env` (or the only environment); a missing or unknown one is refused 403, audited. */
export async function formEnvironment(user: AppUser, form: FormData): Promise<string> {
  try {
    return await requestEnvironment(form.get("env"));
  } catch (e) {
    if (e instanceof EnvironmentChoiceError) return refuseAction(user, "choose an environment", e.message);
    throw e;
  }
}

/** `href` with the environment in its query (kept as users move between pages). */
export function withEnvironment(href: string, environment: string | null | undefined): string {
  if (!environment) return href;
  return `${href}${href.includes("?") ? "&" : "?"}env=${encodeURIComponent(environment)}`;
}
