CREATE TABLE "hub_account" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(8) NOT NULL,
	"handle" varchar(30) NOT NULL,
	"kind" varchar(4) DEFAULT 'user' NOT NULL,
	"name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hub_account_uid_unique" UNIQUE("uid"),
	CONSTRAINT "hub_account_handle_unique" UNIQUE("handle")
);
--> statement-breakpoint
CREATE TABLE "hub_api_key" (
	"id" serial PRIMARY KEY NOT NULL,
	"account_id" integer NOT NULL,
	"prefix" varchar(12) NOT NULL,
	"secret_sha256" char(64) NOT NULL,
	"name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "hub_api_key_prefix_unique" UNIQUE("prefix")
);
--> statement-breakpoint
CREATE TABLE "hub_collaborator" (
	"instance_id" varchar(32) NOT NULL,
	"account_id" integer NOT NULL,
	"role" varchar(5) NOT NULL,
	CONSTRAINT "hub_collaborator_instance_id_account_id_pk" PRIMARY KEY("instance_id","account_id")
);
--> statement-breakpoint
CREATE TABLE "hub_instance" (
	"id" varchar(32) PRIMARY KEY NOT NULL,
	"owner_id" integer NOT NULL,
	"name" varchar(30) NOT NULL,
	"storage_root" text NOT NULL,
	"storage_endpoint" text,
	"db_url" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hub_instance_owner_name_unique" UNIQUE("owner_id","name")
);
--> statement-breakpoint
CREATE TABLE "hub_membership" (
	"org_id" integer NOT NULL,
	"account_id" integer NOT NULL,
	"role" varchar(6) DEFAULT 'member' NOT NULL,
	CONSTRAINT "hub_membership_org_id_account_id_pk" PRIMARY KEY("org_id","account_id")
);
--> statement-breakpoint
ALTER TABLE "hub_api_key" ADD CONSTRAINT "hub_api_key_account_id_hub_account_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."hub_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub_collaborator" ADD CONSTRAINT "hub_collaborator_instance_id_hub_instance_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."hub_instance"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub_collaborator" ADD CONSTRAINT "hub_collaborator_account_id_hub_account_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."hub_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub_instance" ADD CONSTRAINT "hub_instance_owner_id_hub_account_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."hub_account"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub_membership" ADD CONSTRAINT "hub_membership_org_id_hub_account_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."hub_account"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub_membership" ADD CONSTRAINT "hub_membership_account_id_hub_account_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."hub_account"("id") ON DELETE cascade ON UPDATE no action;