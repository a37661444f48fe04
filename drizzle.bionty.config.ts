import { defineConfig } from "drizzle-kit";

// `lamin migrate create NAME --module bionty` diffs core/modules/bionty/schema.ts against
// migrations/bionty and writes SQL (the core tables it references are not part of the module).
export default defineConfig({
  dialect: "postgresql",
  schema: "./core/modules/bionty/schema.ts",
  out: "./migrations/bionty",
});
