CREATE TABLE "lamindb_artifact_recreating_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"artifact_id" integer NOT NULL,
	"run_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_artifactschema" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"artifact_id" integer NOT NULL,
	"schema_id" integer NOT NULL,
	"slot" varchar(40),
	"feature_ref_is_semantic" boolean,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint
);
--> statement-breakpoint
CREATE TABLE "lamindb_collection_recreating_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" integer NOT NULL,
	"run_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_schemacomponent" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"composite_id" integer NOT NULL,
	"component_id" integer NOT NULL,
	"slot" varchar(40),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint
);
--> statement-breakpoint
ALTER TABLE "lamindb_artifact_recreating_runs" ADD CONSTRAINT "lamindb_artifact_recreating_runs_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact_recreating_runs" ADD CONSTRAINT "lamindb_artifact_recreating_runs_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactschema" ADD CONSTRAINT "lamindb_artifactschema_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactschema" ADD CONSTRAINT "lamindb_artifactschema_schema_id_lamindb_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactschema" ADD CONSTRAINT "lamindb_artifactschema_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactschema" ADD CONSTRAINT "lamindb_artifactschema_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection_recreating_runs" ADD CONSTRAINT "lamindb_collection_recreating_runs_collection_id_lamindb_collection_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."lamindb_collection"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection_recreating_runs" ADD CONSTRAINT "lamindb_collection_recreating_runs_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schemacomponent" ADD CONSTRAINT "lamindb_schemacomponent_composite_id_lamindb_schema_id_fk" FOREIGN KEY ("composite_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schemacomponent" ADD CONSTRAINT "lamindb_schemacomponent_component_id_lamindb_schema_id_fk" FOREIGN KEY ("component_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schemacomponent" ADD CONSTRAINT "lamindb_schemacomponent_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schemacomponent" ADD CONSTRAINT "lamindb_schemacomponent_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifact_recreating_runs_pair" ON "lamindb_artifact_recreating_runs" USING btree ("artifact_id","run_id");--> statement-breakpoint
CREATE INDEX "lamindb_artifact_recreating_runs_run" ON "lamindb_artifact_recreating_runs" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactschema_artifact_schema" ON "lamindb_artifactschema" USING btree ("artifact_id","schema_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactschema_artifact_slot" ON "lamindb_artifactschema" USING btree ("artifact_id","slot");--> statement-breakpoint
CREATE INDEX "lamindb_artifactschema_schema" ON "lamindb_artifactschema" USING btree ("schema_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_collection_recreating_runs_pair" ON "lamindb_collection_recreating_runs" USING btree ("collection_id","run_id");--> statement-breakpoint
CREATE INDEX "lamindb_collection_recreating_runs_run" ON "lamindb_collection_recreating_runs" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_schemacomponent_composite_slot" ON "lamindb_schemacomponent" USING btree ("composite_id","slot");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_schemacomponent_composite_component" ON "lamindb_schemacomponent" USING btree ("composite_id","component_id");--> statement-breakpoint
CREATE INDEX "lamindb_schemacomponent_component" ON "lamindb_schemacomponent" USING btree ("component_id");