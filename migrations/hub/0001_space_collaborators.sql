CREATE TABLE "hub_space_collaborator" (
	"instance_id" varchar(32) NOT NULL,
	"space_id" smallint NOT NULL,
	"account_id" integer NOT NULL,
	"role" varchar(5) NOT NULL,
	CONSTRAINT "hub_space_collaborator_instance_id_space_id_account_id_pk" PRIMARY KEY("instance_id","space_id","account_id")
);
--> statement-breakpoint
ALTER TABLE "hub_space_collaborator" ADD CONSTRAINT "hub_space_collaborator_instance_id_hub_instance_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."hub_instance"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hub_space_collaborator" ADD CONSTRAINT "hub_space_collaborator_account_id_hub_account_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."hub_account"("id") ON DELETE cascade ON UPDATE no action;