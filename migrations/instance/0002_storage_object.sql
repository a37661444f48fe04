CREATE TABLE "lns_storage_object" (
	"storage_id" integer NOT NULL,
	"key" text NOT NULL,
	"sequencer" varchar(128) NOT NULL,
	"etag" varchar(128),
	"deleted" boolean DEFAULT false NOT NULL,
	"artifact_id" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lns_storage_object_storage_id_key_pk" PRIMARY KEY("storage_id","key")
);
--> statement-breakpoint
ALTER TABLE "lns_storage_object" ADD CONSTRAINT "lns_storage_object_storage_id_lamindb_storage_id_fk" FOREIGN KEY ("storage_id") REFERENCES "public"."lamindb_storage"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lns_storage_object" ADD CONSTRAINT "lns_storage_object_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE set null ON UPDATE no action;