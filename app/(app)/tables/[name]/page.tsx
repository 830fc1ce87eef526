import Link from "next/link";
import { notFound } from "next/navigation";
import { TrendChart } from "@/components/charts/trend-chart";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { tableTrend } from "@/lib/runs";
import { requirePageRole } from "@/server/session";

export default async function TablePage({ params }: { params: Promise<{ name: string }> }) {
  await requirePageRole("viewer", "table history");
  const name = decodeURIComponent((await params).name);
  const config = await metadataDb().tableConfig.findUnique({ where: { name } });
  if (!config) notFound();
  const points = await tableTrend(metadataDb(), name);
  return (
    <section>
      <p className="text-sm"><Link href="/" className="text-slate-600 hover:underline">← Dashboard</Link></p>
      <h1 className="mb-1 text-2xl font-semibold">{name}</h1>
      <p className="mb-4 text-sm text-slate-600">
        {config.strategy}{config.strategy === "simple_copy" ? ` / ${config.syncMode}` : ""}
        {config.incrementalColumn ? ` on ${config.incrementalColumn} (${config.incrementalType})` : ""} ·{" "}
        <Link className="underline" href={`/runs?table=${encodeURIComponent(name)}`}>runs of this table</Link>
      </p>
      <div className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">Duration and throughput, last {points.length} refreshes</h2>
        <TrendChart points={points} />
      </div>
    </section>
  );
}
