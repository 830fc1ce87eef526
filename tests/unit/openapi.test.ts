// The OpenAPI document says what the routes take: the environment as ?env= wherever a route reads it.
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../lib/http/openapi";

describe("the OpenAPI document", () => {
  it("lists ?env= on the status read and on the trigger (which also takes it in the body)", () => {
    const paths = openApiDocument().paths as Record<string, Record<string, { parameters?: { name: string; in: string; description?: string }[] }>>;
    expect(paths["/api/status"].get.parameters?.map((p) => [p.name, p.in])).toEqual([["env", "query"]]);
    expect(paths["/api/runs"].post.parameters).toEqual([expect.objectContaining({ name: "env", in: "query", description: expect.stringContaining("or `environment` in the body") })]);
  });
});
