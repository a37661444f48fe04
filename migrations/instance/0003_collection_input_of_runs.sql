CREATE TABLE "lamindb_collection_input_of_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" integer NOT NULL,
	"run_id" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lamindb_collection_input_of_runs" ADD CONSTRAINT "lamindb_collection_input_of_runs_collection_id_lamindb_collection_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."lamindb_collection"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection_input_of_runs" ADD CONSTRAINT "lamindb_collection_input_of_runs_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_collection_input_of_runs_pair" ON "lamindb_collection_input_of_runs" USING btree ("collection_id","run_id");--> statement-breakpoint
CREATE INDEX "lamindb_collection_input_of_runs_run" ON "lamindb_collection_input_of_runs" USING btree ("run_id");