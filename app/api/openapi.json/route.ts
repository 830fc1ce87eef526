import { NextResponse } from "next/server";
import { openApiDocument } from "@/lib/http/openapi";

/** The REST API's OpenAPI description (public: it holds no data). */
export function GET() {
  return NextResponse.json(openApiDocument(), { headers: { "cache-control": "public, max-age=300" } });
}
