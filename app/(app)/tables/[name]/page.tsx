import Link from "next/link";
import { notFound } from "next/navigation";
import { TrendChart } from "@/components/charts/trend-chart";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { tableTrend } from "@/lib/runs";
import { configuredMode, modeLabel } from "@/lib/mode";
import { requirePageRole } from "@/server/session";
import { pageEnvironment, withEnvironment } from "@/server/environment";

export default async function TablePage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<{ env?: string }> }) {
  await requirePageRole("viewer", "table history");
  const name = decodeURIComponent((await params).name);
  const environment = (await pageEnvironment((await searchParams).env)).current ?? "";
  const config = await metadataDb().tableConfig.findUnique({ where: { environment_name: { environment, name } } });
  // A table refreshed only from a `--config` file has runs but no stored config: its history is still worth showing.
  if (!config && !(await metadataDb().tableResult.findFirst({ where: { tableName: name, run: { environment } }, select: { id: true } }))) notFound();
  const points = await tableTrend(metadataDb(), environment, name);
  const lastMode = points.at(-1)?.mode;
  return (
    <section>
      <p className="text-sm"><Link href={withEnvironment("/", environment)} className="text-slate-600 hover:underline">← Dashboard</Link></p>
      <h1 className="mb-1 text-2xl font-semibold">{name} <span className="text-base font-normal text-slate-500">in {environment}</span></h1>
      <p className="mb-4 text-sm text-slate-600" data-testid="table-config">
        {config ? (
          <>
            {config.strategy} / {modeLabel(configuredMode({ strategy: config.strategy, sync_mode: config.syncMode }), lastMode)}
            {config.incrementalColumn ? ` on ${config.incrementalColumn} (${config.incrementalType})` : ""}
          </>
        ) : (
          "not in the stored configuration (refreshed from a --config file)"
        )}{" "}
        ·{" "}
        <Link className="underline" href={withEnvironment(`/runs?table=${encodeURIComponent(name)}`, environment)}>runs of this table</Link>
      </p>
      <div className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">Duration and throughput, last {points.length} refreshes</h2>
        <TrendChart points={points} />
      </div>
    </section>
  );
}
