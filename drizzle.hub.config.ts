import { defineConfig } from "drizzle-kit";

// `npm run migrate:generate:hub` diffs core/hub/schema.ts against migrations/hub and writes SQL.
export default defineConfig({
  dialect: "postgresql",
  schema: "./core/hub/schema.ts",
  out: "./migrations/hub",
});
