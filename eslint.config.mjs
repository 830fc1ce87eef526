import next from "eslint-config-next/core-web-vitals";
import ts from "eslint-config-next/typescript";

const config = [
  { ignores: ["lib/generated/**", ".next/**", "node_modules/**", "test-results/**", "playwright-report/**", ".data/**", "scripts/tmp/**", "prisma/schema-engine-wasm.mjs"] },
  ...next,
  ...ts,
  // Modules import one another in one direction (cli / scheduler / queue -> engine -> config -> dialects); shared
  // types and errors live in rooms of their own, so no circle is needed, not even a type-only one.
  { files: ["lib/**/*.ts", "server/**/*.ts", "app/**/*.{ts,tsx}", "components/**/*.tsx"], rules: { "import/no-cycle": ["error", { ignoreExternal: true }] } },
];

export default config;
