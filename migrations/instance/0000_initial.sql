CREATE TABLE "lamindb_artifact" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(20) NOT NULL,
	"key" varchar(1024),
	"_real_key" varchar(1024),
	"description" text,
	"storage_id" integer NOT NULL,
	"suffix" varchar(30) DEFAULT '' NOT NULL,
	"kind" varchar(20),
	"otype" varchar(64),
	"size" bigint,
	"hash" varchar(22),
	"_hash_type" varchar(30),
	"n_files" bigint,
	"n_observations" bigint,
	"schema_id" integer,
	"extra_data" jsonb,
	"_key_is_virtual" boolean NOT NULL,
	"_overwrite_versions" boolean NOT NULL,
	"version_tag" varchar(30),
	"is_latest" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_artifact_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_artifact_input_of_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"artifact_id" integer NOT NULL,
	"run_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_artifactjsonvalue" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"artifact_id" integer NOT NULL,
	"jsonvalue_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_artifactproject" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"project_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_artifactulabel" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"ulabel_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_branch" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(12) NOT NULL,
	"name" varchar(100) NOT NULL,
	"description" text,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"_status_code" smallint DEFAULT 0 NOT NULL,
	"_aux" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	CONSTRAINT "lamindb_branch_uid_unique" UNIQUE("uid"),
	CONSTRAINT "lamindb_branch_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "lamindb_collection" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(20) NOT NULL,
	"key" varchar(255) NOT NULL,
	"description" text,
	"hash" varchar(22),
	"reference" varchar(255),
	"reference_type" varchar(25),
	"meta_artifact_id" integer,
	"schema_id" integer,
	"version_tag" varchar(30),
	"is_latest" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_collection_uid_unique" UNIQUE("uid"),
	CONSTRAINT "lamindb_collection_meta_artifact_id_unique" UNIQUE("meta_artifact_id")
);
--> statement-breakpoint
CREATE TABLE "lamindb_collectionartifact" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" integer NOT NULL,
	"artifact_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint
);
--> statement-breakpoint
CREATE TABLE "lamindb_feature" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(12) NOT NULL,
	"name" varchar(150) NOT NULL,
	"_dtype_str" varchar(255),
	"_ounit_str" varchar(255),
	"unit" varchar(30),
	"description" text,
	"array_rank" smallint DEFAULT 0 NOT NULL,
	"array_size" integer DEFAULT 0 NOT NULL,
	"array_shape" jsonb,
	"synonyms" text,
	"default_value" jsonb,
	"nullable" boolean DEFAULT true NOT NULL,
	"coerce" boolean DEFAULT false NOT NULL,
	"is_type" boolean DEFAULT false NOT NULL,
	"type_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_feature_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_jsonvalue" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"value" jsonb,
	"hash" varchar(22) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb
);
--> statement-breakpoint
CREATE TABLE "lamindb_project" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(12) NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"abbr" varchar(32),
	"url" varchar(255),
	"start_date" date,
	"end_date" date,
	"_status_code" smallint DEFAULT 0 NOT NULL,
	"is_type" boolean DEFAULT false NOT NULL,
	"type_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_project_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_record" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(16) NOT NULL,
	"name" varchar(150),
	"description" text,
	"reference" varchar(255),
	"reference_type" varchar(25),
	"extra_data" jsonb,
	"schema_id" integer,
	"is_type" boolean DEFAULT false NOT NULL,
	"type_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_record_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_run" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uid" varchar(20) NOT NULL,
	"name" varchar(150),
	"description" text,
	"entrypoint" varchar(255),
	"transform_id" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"params" jsonb,
	"extra_data" jsonb,
	"reference" varchar(255),
	"reference_type" varchar(25),
	"cli_args" varchar(1024),
	"report_id" integer,
	"environment_id" integer,
	"initiated_by_run_id" bigint,
	"_is_consecutive" boolean,
	"_status_code" smallint DEFAULT -3 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_run_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_schema" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(16) NOT NULL,
	"name" varchar(150),
	"description" text,
	"n_members" integer,
	"coerce" boolean,
	"flexible" boolean,
	"itype" varchar(120),
	"otype" varchar(64),
	"suffix" varchar(30),
	"_dtype_str" varchar(64),
	"hash" varchar(22),
	"minimal_set" boolean DEFAULT true NOT NULL,
	"ordered_set" boolean DEFAULT false NOT NULL,
	"maximal_set" boolean DEFAULT false NOT NULL,
	"is_type" boolean DEFAULT false NOT NULL,
	"type_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_schema_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_schemafeature" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"schema_id" integer NOT NULL,
	"feature_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lamindb_space" (
	"id" "smallserial" PRIMARY KEY NOT NULL,
	"uid" varchar(12) NOT NULL,
	"name" varchar(100) NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	CONSTRAINT "lamindb_space_uid_unique" UNIQUE("uid"),
	CONSTRAINT "lamindb_space_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "lamindb_storage" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(12) NOT NULL,
	"root" varchar(255) NOT NULL,
	"description" text,
	"type" varchar(30) NOT NULL,
	"region" varchar(64),
	"instance_uid" varchar(12),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_storage_uid_unique" UNIQUE("uid"),
	CONSTRAINT "lamindb_storage_root_unique" UNIQUE("root")
);
--> statement-breakpoint
CREATE TABLE "lamindb_transform" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(16) NOT NULL,
	"key" varchar(1024) NOT NULL,
	"description" text,
	"kind" varchar(20) DEFAULT 'pipeline' NOT NULL,
	"source_code" text,
	"hash" varchar(22),
	"reference" varchar(255),
	"reference_type" varchar(25),
	"environment_id" integer,
	"version_tag" varchar(30),
	"is_latest" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_transform_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_ulabel" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(8) NOT NULL,
	"name" varchar(150) NOT NULL,
	"description" text,
	"reference" varchar(255),
	"reference_type" varchar(25),
	"is_type" boolean DEFAULT false NOT NULL,
	"type_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "lamindb_ulabel_uid_unique" UNIQUE("uid")
);
--> statement-breakpoint
CREATE TABLE "lamindb_user" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(8) NOT NULL,
	"handle" varchar(30) NOT NULL,
	"name" varchar(150),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lamindb_user_uid_unique" UNIQUE("uid"),
	CONSTRAINT "lamindb_user_handle_unique" UNIQUE("handle")
);
--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_storage_id_lamindb_storage_id_fk" FOREIGN KEY ("storage_id") REFERENCES "public"."lamindb_storage"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_schema_id_lamindb_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact" ADD CONSTRAINT "lamindb_artifact_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact_input_of_runs" ADD CONSTRAINT "lamindb_artifact_input_of_runs_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifact_input_of_runs" ADD CONSTRAINT "lamindb_artifact_input_of_runs_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactjsonvalue" ADD CONSTRAINT "lamindb_artifactjsonvalue_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactjsonvalue" ADD CONSTRAINT "lamindb_artifactjsonvalue_jsonvalue_id_lamindb_jsonvalue_id_fk" FOREIGN KEY ("jsonvalue_id") REFERENCES "public"."lamindb_jsonvalue"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactproject" ADD CONSTRAINT "lamindb_artifactproject_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactproject" ADD CONSTRAINT "lamindb_artifactproject_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactproject" ADD CONSTRAINT "lamindb_artifactproject_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactproject" ADD CONSTRAINT "lamindb_artifactproject_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactproject" ADD CONSTRAINT "lamindb_artifactproject_project_id_lamindb_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."lamindb_project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactulabel" ADD CONSTRAINT "lamindb_artifactulabel_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactulabel" ADD CONSTRAINT "lamindb_artifactulabel_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactulabel" ADD CONSTRAINT "lamindb_artifactulabel_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactulabel" ADD CONSTRAINT "lamindb_artifactulabel_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_artifactulabel" ADD CONSTRAINT "lamindb_artifactulabel_ulabel_id_lamindb_ulabel_id_fk" FOREIGN KEY ("ulabel_id") REFERENCES "public"."lamindb_ulabel"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_branch" ADD CONSTRAINT "lamindb_branch_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_branch" ADD CONSTRAINT "lamindb_branch_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_meta_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("meta_artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_schema_id_lamindb_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collection" ADD CONSTRAINT "lamindb_collection_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collectionartifact" ADD CONSTRAINT "lamindb_collectionartifact_collection_id_lamindb_collection_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."lamindb_collection"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collectionartifact" ADD CONSTRAINT "lamindb_collectionartifact_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collectionartifact" ADD CONSTRAINT "lamindb_collectionartifact_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_collectionartifact" ADD CONSTRAINT "lamindb_collectionartifact_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_feature" ADD CONSTRAINT "lamindb_feature_type_id_lamindb_feature_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_feature" ADD CONSTRAINT "lamindb_feature_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_feature" ADD CONSTRAINT "lamindb_feature_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_feature" ADD CONSTRAINT "lamindb_feature_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_feature" ADD CONSTRAINT "lamindb_feature_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_feature" ADD CONSTRAINT "lamindb_feature_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_jsonvalue" ADD CONSTRAINT "lamindb_jsonvalue_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_jsonvalue" ADD CONSTRAINT "lamindb_jsonvalue_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_jsonvalue" ADD CONSTRAINT "lamindb_jsonvalue_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_jsonvalue" ADD CONSTRAINT "lamindb_jsonvalue_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_jsonvalue" ADD CONSTRAINT "lamindb_jsonvalue_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_jsonvalue" ADD CONSTRAINT "lamindb_jsonvalue_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_project" ADD CONSTRAINT "lamindb_project_type_id_lamindb_project_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."lamindb_project"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_project" ADD CONSTRAINT "lamindb_project_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_project" ADD CONSTRAINT "lamindb_project_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_project" ADD CONSTRAINT "lamindb_project_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_project" ADD CONSTRAINT "lamindb_project_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_project" ADD CONSTRAINT "lamindb_project_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_schema_id_lamindb_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_type_id_lamindb_record_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."lamindb_record"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_record" ADD CONSTRAINT "lamindb_record_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_transform_id_lamindb_transform_id_fk" FOREIGN KEY ("transform_id") REFERENCES "public"."lamindb_transform"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_report_id_lamindb_artifact_id_fk" FOREIGN KEY ("report_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_environment_id_lamindb_artifact_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_initiated_by_run_id_lamindb_run_id_fk" FOREIGN KEY ("initiated_by_run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_run" ADD CONSTRAINT "lamindb_run_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schema" ADD CONSTRAINT "lamindb_schema_type_id_lamindb_schema_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schema" ADD CONSTRAINT "lamindb_schema_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schema" ADD CONSTRAINT "lamindb_schema_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schema" ADD CONSTRAINT "lamindb_schema_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schema" ADD CONSTRAINT "lamindb_schema_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schema" ADD CONSTRAINT "lamindb_schema_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schemafeature" ADD CONSTRAINT "lamindb_schemafeature_schema_id_lamindb_schema_id_fk" FOREIGN KEY ("schema_id") REFERENCES "public"."lamindb_schema"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_schemafeature" ADD CONSTRAINT "lamindb_schemafeature_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_space" ADD CONSTRAINT "lamindb_space_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_storage" ADD CONSTRAINT "lamindb_storage_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_storage" ADD CONSTRAINT "lamindb_storage_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_storage" ADD CONSTRAINT "lamindb_storage_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_storage" ADD CONSTRAINT "lamindb_storage_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_storage" ADD CONSTRAINT "lamindb_storage_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_transform" ADD CONSTRAINT "lamindb_transform_environment_id_lamindb_artifact_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_transform" ADD CONSTRAINT "lamindb_transform_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_transform" ADD CONSTRAINT "lamindb_transform_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_transform" ADD CONSTRAINT "lamindb_transform_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_transform" ADD CONSTRAINT "lamindb_transform_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_transform" ADD CONSTRAINT "lamindb_transform_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel" ADD CONSTRAINT "lamindb_ulabel_type_id_lamindb_ulabel_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."lamindb_ulabel"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel" ADD CONSTRAINT "lamindb_ulabel_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel" ADD CONSTRAINT "lamindb_ulabel_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel" ADD CONSTRAINT "lamindb_ulabel_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel" ADD CONSTRAINT "lamindb_ulabel_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lamindb_ulabel" ADD CONSTRAINT "lamindb_ulabel_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifact_storage_key_hash" ON "lamindb_artifact" USING btree ("storage_id","key","hash") WHERE "lamindb_artifact"."key" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifact_storage_hash" ON "lamindb_artifact" USING btree ("storage_id","hash") WHERE "lamindb_artifact"."key" IS NULL;--> statement-breakpoint
CREATE INDEX "lamindb_artifact_hash" ON "lamindb_artifact" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "lamindb_artifact_key_prefix" ON "lamindb_artifact" USING btree ("key" varchar_pattern_ops);--> statement-breakpoint
CREATE INDEX "lamindb_artifact_uid_prefix" ON "lamindb_artifact" USING btree ("uid" varchar_pattern_ops);--> statement-breakpoint
CREATE INDEX "lamindb_artifact_created_at" ON "lamindb_artifact" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "lamindb_artifact_suffix" ON "lamindb_artifact" USING btree ("suffix");--> statement-breakpoint
CREATE INDEX "lamindb_artifact_run" ON "lamindb_artifact" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifact_input_of_runs_pair" ON "lamindb_artifact_input_of_runs" USING btree ("artifact_id","run_id");--> statement-breakpoint
CREATE INDEX "lamindb_artifact_input_of_runs_run" ON "lamindb_artifact_input_of_runs" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactjsonvalue_pair" ON "lamindb_artifactjsonvalue" USING btree ("artifact_id","jsonvalue_id");--> statement-breakpoint
CREATE INDEX "lamindb_artifactjsonvalue_value" ON "lamindb_artifactjsonvalue" USING btree ("jsonvalue_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactproject_with_feature" ON "lamindb_artifactproject" USING btree ("artifact_id","project_id","feature_id") WHERE "lamindb_artifactproject"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactproject_without_feature" ON "lamindb_artifactproject" USING btree ("artifact_id","project_id") WHERE "lamindb_artifactproject"."feature_id" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactulabel_with_feature" ON "lamindb_artifactulabel" USING btree ("artifact_id","ulabel_id","feature_id") WHERE "lamindb_artifactulabel"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_artifactulabel_without_feature" ON "lamindb_artifactulabel" USING btree ("artifact_id","ulabel_id") WHERE "lamindb_artifactulabel"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "lamindb_artifactulabel_ulabel" ON "lamindb_artifactulabel" USING btree ("ulabel_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_collection_key_hash" ON "lamindb_collection" USING btree ("key","hash");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_collectionartifact_pair" ON "lamindb_collectionartifact" USING btree ("collection_id","artifact_id");--> statement-breakpoint
CREATE INDEX "lamindb_feature_name" ON "lamindb_feature" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_jsonvalue_feature_hash" ON "lamindb_jsonvalue" USING btree ("feature_id","hash");--> statement-breakpoint
CREATE INDEX "lamindb_project_name" ON "lamindb_project" USING btree ("name");--> statement-breakpoint
CREATE INDEX "lamindb_record_name" ON "lamindb_record" USING btree ("name");--> statement-breakpoint
CREATE INDEX "lamindb_run_transform" ON "lamindb_run" USING btree ("transform_id");--> statement-breakpoint
CREATE INDEX "lamindb_schema_hash" ON "lamindb_schema" USING btree ("hash");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_schemafeature_pair" ON "lamindb_schemafeature" USING btree ("schema_id","feature_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lamindb_transform_key_hash" ON "lamindb_transform" USING btree ("key","hash");--> statement-breakpoint
CREATE INDEX "lamindb_transform_key" ON "lamindb_transform" USING btree ("key");--> statement-breakpoint
CREATE INDEX "lamindb_ulabel_name" ON "lamindb_ulabel" USING btree ("name");