// viewer sees; operator also triggers refreshes; admin also edits configuration, schedules and users.
export const ROLES = ["viewer", "operator", "admin"] as const;
export type RoleName = (typeof ROLES)[number];

export function hasRole(actual: RoleName, needed: RoleName): boolean {
  return ROLES.indexOf(actual) >= ROLES.indexOf(needed);
}

/** A user's role in one environment: admin everywhere if admin; else their grant there, or their installation-wide
 *  role where they have none. */
export function roleIn(user: { role: RoleName; grants?: Readonly<Record<string, RoleName>> }, environment: string): RoleName {
  if (user.role === "admin") return "admin";
  return user.grants?.[environment] ?? user.role;
}
