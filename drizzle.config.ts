import { defineConfig } from "drizzle-kit";

// `npm run migrate:generate` diffs core/db/schema.ts against migrations/instance and writes SQL.
export default defineConfig({
  dialect: "postgresql",
  schema: "./core/db/schema.ts",
  out: "./migrations/instance",
});
