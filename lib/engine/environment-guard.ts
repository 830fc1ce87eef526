// Across environments at run time: the configuration's guard compares host names as written, which two names of one
// server (an alias, an IP) pass. Each run records the servers' own names of its source and target (ServerIdentity
// keys) on its environment and refuses a target that another environment has read as its source or written as its
// target.
import type { ServerIdentity } from "../dialects/types";
import type { Metadata } from "../metadata/client";
import { RefreshError } from "./errors";

export async function guardAcrossEnvironments(db: Metadata, environment: string, ids: { source: ServerIdentity; target: ServerIdentity }): Promise<void> {
  const others = await db.environment.findMany({ where: { name: { not: environment } }, orderBy: [{ position: "asc" }, { name: "asc" }], select: { name: true, sourceKeys: true, targetKeys: true } });
  const hits = (keys: string[]) => keys.some((k) => ids.target.keys.includes(k));
  const asSource = others.find((o) => hits(o.sourceKeys));
  if (asSource) throw new RefreshError(`the target database ${ids.target.database} is the source of environment ${asSource.name}: refusing to write a database that is read as production`);
  const asTarget = others.find((o) => hits(o.targetKeys));
  if (asTarget) throw new RefreshError(`the target database ${ids.target.database} is also the target of environment ${asTarget.name}: one target database belongs to one environment`);
  // A run from a --config file names an environment that may not be stored: nothing to record then.
  await db.environment.updateMany({ where: { name: environment }, data: { sourceKeys: ids.source.keys, targetKeys: ids.target.keys } });
}
