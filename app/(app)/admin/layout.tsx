import { requirePageRole } from "@/server/session";

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  await requirePageRole("admin", "administration");
  return children;
}
