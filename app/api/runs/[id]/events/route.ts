// Live progress as server-sent events. The state comes from the metadata DB (the engine persists it every second),
// so a reload, a second browser or a run started from the CLI all see the same stream, resumed from "now".
import { connection, NextResponse } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { getRun, runSnapshot } from "@/lib/runs";
import { requireApiRole } from "@/server/session";

const POLL_MS = 500;

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  await connection();
  const user = await requireApiRole("viewer", "run progress");
  if (user instanceof NextResponse) return user;
  const id = (await params).id;
  if (!(await getRun(metadata(), id))) return NextResponse.json({ error: "no such run" }, { status: 404 });

  const encoder = new TextEncoder();
  const stream = new ReadableStream({
    async start(controller) {
      let last = "";
      const send = (event: string, data: unknown) => controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      try {
        while (!req.signal.aborted) {
          const run = await getRun(metadata(), id);
          if (!run) break;
          const snap = runSnapshot(run);
          const json = JSON.stringify(snap);
          if (json !== last) send("progress", snap);
          else controller.enqueue(encoder.encode(": keep-alive\n\n"));
          last = json;
          if (run.status !== "running" && run.status !== "queued") {
            send("end", { status: run.status });
            break;
          }
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      } catch {
        // client went away or the DB hiccuped: the browser's EventSource reconnects and resumes
      }
      try {
        controller.close();
      } catch {}
    },
  });
  return new Response(stream, {
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" },
  });
}
