// Pages need a session (API routes answer 401/403 themselves); role checks happen in each page.
export { auth as proxy } from "@/server/auth";

export const config = {
  matcher: ["/((?!api/|login|_next/static|_next/image|favicon.ico).*)"],
};
