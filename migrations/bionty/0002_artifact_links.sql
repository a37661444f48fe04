CREATE TABLE "bionty_artifactcellline" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"cellline_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
CREATE TABLE "bionty_artifactcelltype" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"celltype_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
CREATE TABLE "bionty_artifactdisease" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"disease_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
CREATE TABLE "bionty_artifactgene" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"gene_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
CREATE TABLE "bionty_artifactorganism" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"organism_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
CREATE TABLE "bionty_artifactprotein" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"protein_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
CREATE TABLE "bionty_artifacttissue" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"feature_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_id" integer NOT NULL,
	"run_id" bigint,
	"artifact_id" integer NOT NULL,
	"tissue_id" integer NOT NULL,
	"label_ref_is_name" boolean,
	"feature_ref_is_name" boolean
);
--> statement-breakpoint
ALTER TABLE "bionty_artifactcellline" ADD CONSTRAINT "bionty_artifactcellline_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcellline" ADD CONSTRAINT "bionty_artifactcellline_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcellline" ADD CONSTRAINT "bionty_artifactcellline_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcellline" ADD CONSTRAINT "bionty_artifactcellline_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcellline" ADD CONSTRAINT "bionty_artifactcellline_cellline_id_bionty_cellline_id_fk" FOREIGN KEY ("cellline_id") REFERENCES "public"."bionty_cellline"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcelltype" ADD CONSTRAINT "bionty_artifactcelltype_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcelltype" ADD CONSTRAINT "bionty_artifactcelltype_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcelltype" ADD CONSTRAINT "bionty_artifactcelltype_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcelltype" ADD CONSTRAINT "bionty_artifactcelltype_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactcelltype" ADD CONSTRAINT "bionty_artifactcelltype_celltype_id_bionty_celltype_id_fk" FOREIGN KEY ("celltype_id") REFERENCES "public"."bionty_celltype"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactdisease" ADD CONSTRAINT "bionty_artifactdisease_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactdisease" ADD CONSTRAINT "bionty_artifactdisease_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactdisease" ADD CONSTRAINT "bionty_artifactdisease_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactdisease" ADD CONSTRAINT "bionty_artifactdisease_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactdisease" ADD CONSTRAINT "bionty_artifactdisease_disease_id_bionty_disease_id_fk" FOREIGN KEY ("disease_id") REFERENCES "public"."bionty_disease"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactgene" ADD CONSTRAINT "bionty_artifactgene_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactgene" ADD CONSTRAINT "bionty_artifactgene_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactgene" ADD CONSTRAINT "bionty_artifactgene_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactgene" ADD CONSTRAINT "bionty_artifactgene_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactgene" ADD CONSTRAINT "bionty_artifactgene_gene_id_bionty_gene_id_fk" FOREIGN KEY ("gene_id") REFERENCES "public"."bionty_gene"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactorganism" ADD CONSTRAINT "bionty_artifactorganism_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactorganism" ADD CONSTRAINT "bionty_artifactorganism_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactorganism" ADD CONSTRAINT "bionty_artifactorganism_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactorganism" ADD CONSTRAINT "bionty_artifactorganism_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactorganism" ADD CONSTRAINT "bionty_artifactorganism_organism_id_bionty_organism_id_fk" FOREIGN KEY ("organism_id") REFERENCES "public"."bionty_organism"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactprotein" ADD CONSTRAINT "bionty_artifactprotein_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactprotein" ADD CONSTRAINT "bionty_artifactprotein_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactprotein" ADD CONSTRAINT "bionty_artifactprotein_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactprotein" ADD CONSTRAINT "bionty_artifactprotein_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifactprotein" ADD CONSTRAINT "bionty_artifactprotein_protein_id_bionty_protein_id_fk" FOREIGN KEY ("protein_id") REFERENCES "public"."bionty_protein"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifacttissue" ADD CONSTRAINT "bionty_artifacttissue_feature_id_lamindb_feature_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."lamindb_feature"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifacttissue" ADD CONSTRAINT "bionty_artifacttissue_created_by_id_lamindb_user_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."lamindb_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifacttissue" ADD CONSTRAINT "bionty_artifacttissue_run_id_lamindb_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."lamindb_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifacttissue" ADD CONSTRAINT "bionty_artifacttissue_artifact_id_lamindb_artifact_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."lamindb_artifact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bionty_artifacttissue" ADD CONSTRAINT "bionty_artifacttissue_tissue_id_bionty_tissue_id_fk" FOREIGN KEY ("tissue_id") REFERENCES "public"."bionty_tissue"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactcellline_with_feature" ON "bionty_artifactcellline" USING btree ("artifact_id","cellline_id","feature_id") WHERE "bionty_artifactcellline"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactcellline_without_feature" ON "bionty_artifactcellline" USING btree ("artifact_id","cellline_id") WHERE "bionty_artifactcellline"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifactcellline_cellline" ON "bionty_artifactcellline" USING btree ("cellline_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactcelltype_with_feature" ON "bionty_artifactcelltype" USING btree ("artifact_id","celltype_id","feature_id") WHERE "bionty_artifactcelltype"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactcelltype_without_feature" ON "bionty_artifactcelltype" USING btree ("artifact_id","celltype_id") WHERE "bionty_artifactcelltype"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifactcelltype_celltype" ON "bionty_artifactcelltype" USING btree ("celltype_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactdisease_with_feature" ON "bionty_artifactdisease" USING btree ("artifact_id","disease_id","feature_id") WHERE "bionty_artifactdisease"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactdisease_without_feature" ON "bionty_artifactdisease" USING btree ("artifact_id","disease_id") WHERE "bionty_artifactdisease"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifactdisease_disease" ON "bionty_artifactdisease" USING btree ("disease_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactgene_with_feature" ON "bionty_artifactgene" USING btree ("artifact_id","gene_id","feature_id") WHERE "bionty_artifactgene"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactgene_without_feature" ON "bionty_artifactgene" USING btree ("artifact_id","gene_id") WHERE "bionty_artifactgene"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifactgene_gene" ON "bionty_artifactgene" USING btree ("gene_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactorganism_with_feature" ON "bionty_artifactorganism" USING btree ("artifact_id","organism_id","feature_id") WHERE "bionty_artifactorganism"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactorganism_without_feature" ON "bionty_artifactorganism" USING btree ("artifact_id","organism_id") WHERE "bionty_artifactorganism"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifactorganism_organism" ON "bionty_artifactorganism" USING btree ("organism_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactprotein_with_feature" ON "bionty_artifactprotein" USING btree ("artifact_id","protein_id","feature_id") WHERE "bionty_artifactprotein"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifactprotein_without_feature" ON "bionty_artifactprotein" USING btree ("artifact_id","protein_id") WHERE "bionty_artifactprotein"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifactprotein_protein" ON "bionty_artifactprotein" USING btree ("protein_id","artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifacttissue_with_feature" ON "bionty_artifacttissue" USING btree ("artifact_id","tissue_id","feature_id") WHERE "bionty_artifacttissue"."feature_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bionty_artifacttissue_without_feature" ON "bionty_artifacttissue" USING btree ("artifact_id","tissue_id") WHERE "bionty_artifacttissue"."feature_id" IS NULL;--> statement-breakpoint
CREATE INDEX "bionty_artifacttissue_tissue" ON "bionty_artifacttissue" USING btree ("tissue_id","artifact_id");