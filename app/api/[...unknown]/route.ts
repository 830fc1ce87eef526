// Any /api path no route handles: a JSON 404 an API client can read, not the app's HTML "not found" page. It reveals
// nothing a signed-out caller could not learn from the OpenAPI document.
import { NextResponse } from "next/server";

function unknown(req: Request) {
  return NextResponse.json({ error: `no such API route: ${req.method} ${new URL(req.url).pathname}` }, { status: 404 });
}

export { unknown as GET, unknown as POST, unknown as PUT, unknown as PATCH, unknown as DELETE };
