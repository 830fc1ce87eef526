import next from "eslint-config-next/core-web-vitals";
import ts from "eslint-config-next/typescript";

const config = [
  { ignores: ["lib/generated/**", ".next/**", "node_modules/**", "test-results/**", "playwright-report/**", ".data/**", "scripts/tmp/**", "prisma/schema-engine-wasm.mjs"] },
  ...next,
  ...ts,
];

export default config;
