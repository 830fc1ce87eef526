// viewer sees; operator also triggers refreshes; admin also edits configuration, schedules and users.
export const ROLES = ["viewer", "operator", "admin"] as const;
export type RoleName = (typeof ROLES)[number];

export function hasRole(actual: RoleName, needed: RoleName): boolean {
  return ROLES.indexOf(actual) >= ROLES.indexOf(needed);
}
