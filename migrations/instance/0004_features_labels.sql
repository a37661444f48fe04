CREATE TABLE "lamindb_artifactrecord" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"record_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_runjsonvalue" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"jsonvalue_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_runproject" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"project_id" integer NOT NULL,
	"feature_id" integer
);
--> statement-breakpoint
CREATE TABLE "lamindb_runrecord" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"record_id" integer NOT NULL,
	"feature_id" integer
);
--> statement-breakpoint
CREATE TABLE "lamindb_runulabel" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"ulabel_id" integer NOT NULL,
	"feature_id" integer
);
--> statement-breakpoint
CREATE TABLE "lamindb_ulabel_parents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"from_ulabel_id" integer NOT NULL,
	"to_ulabel_id" integer NOT NULL
);
--> statement-breakpoint
DROP INDEX "lamindb_artifactjsonvalue_value";--> statement-breakpoint
DROP INDEX "lamindb_artifactulabel_ulabel";--> statement-breakpoint
ALTER TABLE "lamindb_artifactrecord" ADD CONSTRAINT "lamindb_artifactrecord_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactrecord" ADD CONSTRAINT "lamindb_artifactrecord_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactrecord" ADD CONSTRAINT "lamindb_artifactrecord_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactrecord" ADD CONSTRAINT "lamindb_artifactrecord_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactrecord" ADD CONSTRAINT "lamindb_artifactrecord_record_id_lamindb_record_id_fk" FOREIGN KEY ("record_id") REFERENCES "public"."lamindb_record"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runjsonvalue" ADD CONSTRAINT "lamindb_runjsonvalue_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runjsonvalue" ADD CONSTRAINT "lamindb_runjsonvalue_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runjsonvalue" ADD CONSTRAINT "lamindb_runjsonvalue_jsonvalue_id_lamindb_jsonvalue_id_fk" FOREIGN KEY ("jsonvalue_id") REFERENCES "public"."lamindb_jsonvalue"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runproject" ADD CONSTRAINT "lamindb_runproject_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runproject" ADD CONSTRAINT "lamindb_runproject_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runproject" ADD CONSTRAINT "lamindb_runproject_project_id_lamindb_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."lamindb_project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runproject" ADD CONSTRAINT "lamindb_runproject_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runrecord" ADD CONSTRAINT "lamindb_runrecord_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runrecord" ADD CONSTRAINT "lamindb_runrecord_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runrecord" ADD CONSTRAINT "lamindb_runrecord_record_id_lamindb_record_id_fk" FOREIGN KEY ("record_id") REFERENCES "public"."lamindb_record"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runrecord" ADD CONSTRAINT "lamindb_runrecord_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runulabel" ADD CONSTRAINT "lamindb_runulabel_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runulabel" ADD CONSTRAINT "lamindb_runulabel_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runulabel" ADD CONSTRAINT "lamindb_runulabel_ulabel_id_lamindb_ulabel_id_fk" FOREIGN KEY ("ulabel_id") REFERENCES "public"."lamindb_ulabel"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_runulabel" ADD CONSTRAINT "lamindb_runulabel_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel_parents" ADD CONSTRAINT "lamindb_ulabel_parents_from_ulabel_id_lamindb_ulabel_id_fk" FOREIGN KEY ("from_ulabel_id") REFERENCES "public"."lamindb_ulabel"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel_parents" ADD CONSTRAINT "lamindb_ulabel_parents_to_ulabel_id_lamindb_ulabel_id_fk" FOREIGN KEY ("to_ulabel_id") REFERENCES "public"."lamindb_ulabel"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactrecord_with_feature" ON "lamindb_artifactrecord" USING btree ("artifact_id","record_id","feature_id") WHERE "lamindb_artifactrecord"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactrecord_without_feature" ON "lamindb_artifactrecord" USING btree ("artifact_id","record_id") WHERE "lamindb_artifactrecord"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "lamindb_artifactrecord_record" ON "lamindb_artifactrecord" USING btree ("record_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runjsonvalue_pair" ON "lamindb_runjsonvalue" USING btree ("run_id","jsonvalue_id");--> statement-breakpoint
CREATE INDEX "lamindb_runjsonvalue_value" ON "lamindb_runjsonvalue" USING btree ("jsonvalue_id","run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runproject_with_feature" ON "lamindb_runproject" USING btree ("run_id","project_id","feature_id") WHERE "lamindb_runproject"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runproject_without_feature" ON "lamindb_runproject" USING btree ("run_id","project_id") WHERE "lamindb_runproject"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "lamindb_runproject_project" ON "lamindb_runproject" USING btree ("project_id","run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runrecord_with_feature" ON "lamindb_runrecord" USING btree ("run_id","record_id","feature_id") WHERE "lamindb_runrecord"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runrecord_without_feature" ON "lamindb_runrecord" USING btree ("run_id","record_id") WHERE "lamindb_runrecord"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "lamindb_runrecord_record" ON "lamindb_runrecord" USING btree ("record_id","run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runulabel_with_feature" ON "lamindb_runulabel" USING btree ("run_id","ulabel_id","feature_id") WHERE "lamindb_runulabel"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_runulabel_without_feature" ON "lamindb_runulabel" USING btree ("run_id","ulabel_id") WHERE "lamindb_runulabel"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "lamindb_runulabel_ulabel" ON "lamindb_runulabel" USING btree ("ulabel_id","run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_ulabel_parents_pair" ON "lamindb_ulabel_parents" USING btree ("from_ulabel_id","to_ulabel_id");--> statement-breakpoint
CREATE INDEX "lamindb_ulabel_parents_to" ON "lamindb_ulabel_parents" USING btree ("to_ulabel_id");--> statement-breakpoint
CREATE INDEX "lamindb_artifactproject_project" ON "lamindb_artifactproject" USING btree ("project_id","artifact_id");--> statement-breakpoint
CREATE INDEX "lamindb_artifactjsonvalue_value" ON "lamindb_artifactjsonvalue" USING btree ("jsonvalue_id","artifact_id");--> statement-breakpoint
CREATE INDEX "lamindb_artifactulabel_ulabel" ON "lamindb_artifactulabel" USING btree ("ulabel_id","artifact_id");