CREATE TABLE "bionty_cellline" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"name" varchar(256) NOT NULL,
	"ontology_id" varchar(32),
	"abbr" varchar(32),
	"synonyms" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_cellline_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_cellline_ontology_id_unique" UNIQUE("ontology_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_cellline_parents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"from_cellline_id" integer NOT NULL,
	"to_cellline_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bionty_celltype" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"name" varchar(256) NOT NULL,
	"ontology_id" varchar(32),
	"abbr" varchar(32),
	"synonyms" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_celltype_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_celltype_ontology_id_unique" UNIQUE("ontology_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_celltype_parents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"from_celltype_id" integer NOT NULL,
	"to_celltype_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bionty_disease" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"name" varchar(256) NOT NULL,
	"ontology_id" varchar(32),
	"abbr" varchar(32),
	"synonyms" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_disease_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_disease_ontology_id_unique" UNIQUE("ontology_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_disease_parents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"from_disease_id" integer NOT NULL,
	"to_disease_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bionty_gene" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"symbol" varchar(64),
	"ensembl_gene_id" varchar(64),
	"ncbi_gene_ids" text,
	"biotype" varchar(64),
	"synonyms" text,
	"description" text,
	"organism_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_gene_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_gene_ensembl_gene_id_unique" UNIQUE("ensembl_gene_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_organism" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"name" varchar(64) NOT NULL,
	"ontology_id" varchar(32),
	"scientific_name" varchar(64),
	"synonyms" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_organism_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_organism_ontology_id_unique" UNIQUE("ontology_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_protein" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"name" varchar(256),
	"uniprotkb_id" varchar(10),
	"gene_symbol" varchar(256),
	"synonyms" text,
	"description" text,
	"organism_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_protein_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_protein_uniprotkb_id_unique" UNIQUE("uniprotkb_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_tissue" (
	"id" serial PRIMARY KEY NOT NULL,
	"uid" varchar(14) NOT NULL,
	"name" varchar(256) NOT NULL,
	"ontology_id" varchar(32),
	"abbr" varchar(32),
	"synonyms" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"branch_id" integer DEFAULT 1 NOT NULL,
	"created_on_id" integer DEFAULT 1 NOT NULL,
	"space_id" smallint DEFAULT 1 NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"_aux" jsonb,
	CONSTRAINT "bionty_tissue_uid_unique" UNIQUE("uid"),
	CONSTRAINT "bionty_tissue_ontology_id_unique" UNIQUE("ontology_id")
);
--> statement-breakpoint
CREATE TABLE "bionty_tissue_parents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"from_tissue_id" integer NOT NULL,
	"to_tissue_id" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bionty_cellline" ADD CONSTRAINT "bionty_cellline_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_cellline" ADD CONSTRAINT "bionty_cellline_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_cellline" ADD CONSTRAINT "bionty_cellline_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_cellline" ADD CONSTRAINT "bionty_cellline_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_cellline" ADD CONSTRAINT "bionty_cellline_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_cellline_parents" ADD CONSTRAINT "bionty_cellline_parents_from_cellline_id_bionty_cellline_id_fk" FOREIGN KEY ("from_cellline_id") REFERENCES "public"."bionty_cellline"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_cellline_parents" ADD CONSTRAINT "bionty_cellline_parents_to_cellline_id_bionty_cellline_id_fk" FOREIGN KEY ("to_cellline_id") REFERENCES "public"."bionty_cellline"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype" ADD CONSTRAINT "bionty_celltype_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype" ADD CONSTRAINT "bionty_celltype_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype" ADD CONSTRAINT "bionty_celltype_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype" ADD CONSTRAINT "bionty_celltype_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype" ADD CONSTRAINT "bionty_celltype_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype_parents" ADD CONSTRAINT "bionty_celltype_parents_from_celltype_id_bionty_celltype_id_fk" FOREIGN KEY ("from_celltype_id") REFERENCES "public"."bionty_celltype"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_celltype_parents" ADD CONSTRAINT "bionty_celltype_parents_to_celltype_id_bionty_celltype_id_fk" FOREIGN KEY ("to_celltype_id") REFERENCES "public"."bionty_celltype"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease" ADD CONSTRAINT "bionty_disease_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease" ADD CONSTRAINT "bionty_disease_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease" ADD CONSTRAINT "bionty_disease_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease" ADD CONSTRAINT "bionty_disease_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease" ADD CONSTRAINT "bionty_disease_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease_parents" ADD CONSTRAINT "bionty_disease_parents_from_disease_id_bionty_disease_id_fk" FOREIGN KEY ("from_disease_id") REFERENCES "public"."bionty_disease"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_disease_parents" ADD CONSTRAINT "bionty_disease_parents_to_disease_id_bionty_disease_id_fk" FOREIGN KEY ("to_disease_id") REFERENCES "public"."bionty_disease"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_gene" ADD CONSTRAINT "bionty_gene_organism_id_bionty_organism_id_fk" FOREIGN KEY ("organism_id") REFERENCES "public"."bionty_organism"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_gene" ADD CONSTRAINT "bionty_gene_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_gene" ADD CONSTRAINT "bionty_gene_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_gene" ADD CONSTRAINT "bionty_gene_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_gene" ADD CONSTRAINT "bionty_gene_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_gene" ADD CONSTRAINT "bionty_gene_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_organism" ADD CONSTRAINT "bionty_organism_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_organism" ADD CONSTRAINT "bionty_organism_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_organism" ADD CONSTRAINT "bionty_organism_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_organism" ADD CONSTRAINT "bionty_organism_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_organism" ADD CONSTRAINT "bionty_organism_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_protein" ADD CONSTRAINT "bionty_protein_organism_id_bionty_organism_id_fk" FOREIGN KEY ("organism_id") REFERENCES "public"."bionty_organism"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_protein" ADD CONSTRAINT "bionty_protein_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_protein" ADD CONSTRAINT "bionty_protein_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_protein" ADD CONSTRAINT "bionty_protein_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_protein" ADD CONSTRAINT "bionty_protein_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_protein" ADD CONSTRAINT "bionty_protein_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue" ADD CONSTRAINT "bionty_tissue_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue" ADD CONSTRAINT "bionty_tissue_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue" ADD CONSTRAINT "bionty_tissue_branch_id_lamindb_branch_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue" ADD CONSTRAINT "bionty_tissue_created_on_id_lamindb_branch_id_fk" FOREIGN KEY ("created_on_id") REFERENCES "public"."lamindb_branch"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue" ADD CONSTRAINT "bionty_tissue_space_id_lamindb_space_id_fk" FOREIGN KEY ("space_id") REFERENCES "public"."lamindb_space"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue_parents" ADD CONSTRAINT "bionty_tissue_parents_from_tissue_id_bionty_tissue_id_fk" FOREIGN KEY ("from_tissue_id") REFERENCES "public"."bionty_tissue"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_tissue_parents" ADD CONSTRAINT "bionty_tissue_parents_to_tissue_id_bionty_tissue_id_fk" FOREIGN KEY ("to_tissue_id") REFERENCES "public"."bionty_tissue"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bionty_cellline_name" ON "bionty_cellline" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_cellline_parents_pair" ON "bionty_cellline_parents" USING btree ("from_cellline_id","to_cellline_id");--> statement-breakpoint
CREATE INDEX "bionty_cellline_parents_to" ON "bionty_cellline_parents" USING btree ("to_cellline_id");--> statement-breakpoint
CREATE INDEX "bionty_celltype_name" ON "bionty_celltype" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_celltype_parents_pair" ON "bionty_celltype_parents" USING btree ("from_celltype_id","to_celltype_id");--> statement-breakpoint
CREATE INDEX "bionty_celltype_parents_to" ON "bionty_celltype_parents" USING btree ("to_celltype_id");--> statement-breakpoint
CREATE INDEX "bionty_disease_name" ON "bionty_disease" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_disease_parents_pair" ON "bionty_disease_parents" USING btree ("from_disease_id","to_disease_id");--> statement-breakpoint
CREATE INDEX "bionty_disease_parents_to" ON "bionty_disease_parents" USING btree ("to_disease_id");--> statement-breakpoint
CREATE INDEX "bionty_gene_symbol" ON "bionty_gene" USING btree ("symbol");--> statement-breakpoint
CREATE INDEX "bionty_organism_name" ON "bionty_organism" USING btree ("name");--> statement-breakpoint
CREATE INDEX "bionty_protein_name" ON "bionty_protein" USING btree ("name");--> statement-breakpoint
CREATE INDEX "bionty_tissue_name" ON "bionty_tissue" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_tissue_parents_pair" ON "bionty_tissue_parents" USING btree ("from_tissue_id","to_tissue_id");--> statement-breakpoint
CREATE INDEX "bionty_tissue_parents_to" ON "bionty_tissue_parents" USING btree ("to_tissue_id");