import { redirect } from "next/navigation";
import { Nav } from "@/components/nav";
import { currentUser } from "@/server/session";
import { Providers } from "@/components/providers";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/login");
  return (
    <Providers>
      <Nav user={user} />
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </Providers>
  );
}
