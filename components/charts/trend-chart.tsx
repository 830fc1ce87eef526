"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface TrendPoint { at: string; seconds: number; rowsPerSec: number; rows: number; mode: string | null }

export function TrendChart({ points }: { points: TrendPoint[] }) {
  if (points.length === 0) return <p className="text-sm text-slate-600">No finished refreshes yet.</p>;
  const data = points.map((p) => ({ ...p, label: p.at.slice(5, 16).replace("T", " ") }));
  return (
    <div className="h-72 w-full" data-testid="trend-chart">
      <ResponsiveContainer>
        <LineChart data={data} margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="label" fontSize={11} />
          <YAxis yAxisId="s" fontSize={11} label={{ value: "seconds", angle: -90, position: "insideLeft", fontSize: 11 }} />
          <YAxis yAxisId="r" orientation="right" fontSize={11} label={{ value: "rows/s", angle: 90, position: "insideRight", fontSize: 11 }} />
          <Tooltip />
          <Legend />
          <Line yAxisId="s" type="monotone" dataKey="seconds" name="duration (s)" stroke="#0f172a" dot />
          <Line yAxisId="r" type="monotone" dataKey="rowsPerSec" name="throughput (rows/s)" stroke="#059669" dot />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
