/**
 * Blocks of a remote instance: the same calls as the in-process `ln.blocks` (the instance's
 * README and other free-standing blocks) and `ln.ablocks` (the readmes and comments of records),
 * answered by functions/api/routes/blocks.ts.
 */

import type {
  RecordBlock,
  RecordBlockInput,
  RecordBlockListOptions,
} from "../core/registry/blocks/record-blocks.js";
import type { Page } from "../core/registry/model/paging.js";
import type { CreateResult } from "../core/registry/records/base.js";
import type { Block, BlockInput } from "../core/registry/records/blocks.js";
import type { RemoteHttp } from "./remote-http.js";
import { json, listQuery, page, RemoteRecords } from "./remote-registries.js";

const README_KEY = "README.md";

/** Free-standing blocks (`/blocks`): list, get, create, delete, and the instance's README. */
export class RemoteBlocks extends RemoteRecords<Block, BlockInput> {
  constructor(http: RemoteHttp) {
    super(http, "blocks");
  }

  /** The instance's README (the latest block with key README.md), or null. */
  async readme(): Promise<Block | null> {
    const found = await this.list({ filter: { key: README_KEY, is_latest: true }, limit: 1 });
    return found.items[0] ?? null;
  }

  /** Write the instance's README (a new version when the content changed). */
  setReadme(content: string, opts: { version_tag?: string } = {}): Promise<CreateResult<Block>> {
    return this.create({ key: README_KEY, content, kind: "readme", ...opts });
  }

  /** To the trash (its previous version becomes the latest), or for good with `permanent`. */
  async delete(uid: string, opts: { permanent?: boolean } = {}): Promise<Block> {
    return this.http.request<Block>(
      this.path(`/${encodeURIComponent(uid)}`, opts.permanent ? { permanent: "true" } : {}),
      { method: "DELETE" },
      `deleting block ${uid}`,
    );
  }
}

/** The readmes and comments of records (`/blocks/{registry}/{uid}`). */
export class RemoteRecordBlocks {
  constructor(private readonly http: RemoteHttp) {}

  private url(registry: string, ref: string, block?: string, query: Record<string, string> = {}) {
    const plural = registry.endsWith("s") ? registry : `${registry}s`.replace(/chs$/, "ches");
    const q = new URLSearchParams(query).toString();
    return `${this.http.url}/blocks/${encodeURIComponent(plural)}/${encodeURIComponent(ref)}${
      block !== undefined ? `/${encodeURIComponent(block)}` : ""
    }${q ? `?${q}` : ""}`;
  }

  async list(
    registry: string,
    ref: string,
    opts: RecordBlockListOptions = {},
  ): Promise<Page<RecordBlock>> {
    const { kind, allVersions, ...paging } = opts;
    const query = {
      ...listQuery(paging),
      ...(kind ? { kind } : {}),
      ...(allVersions ? { all_versions: "true" } : {}),
    };
    return page(
      await this.http.request<{ items: RecordBlock[]; next_cursor?: string }>(
        this.url(registry, ref, undefined, query),
        {},
        `listing the blocks of ${registry} ${ref}`,
      ),
    );
  }

  async readme(registry: string, ref: string): Promise<RecordBlock | null> {
    const found = await this.list(registry, ref, { kind: "readme", limit: 1 });
    return found.items[0] ?? null;
  }

  add(registry: string, ref: string, input: RecordBlockInput): Promise<CreateResult<RecordBlock>> {
    return this.http.created<RecordBlock>(
      this.http.authed(this.url(registry, ref), json(input)),
      `adding a ${input?.kind ?? "block"} to ${registry} ${ref}`,
    );
  }

  edit(
    registry: string,
    ref: string,
    block: string,
    input: { content?: string | null; version_tag?: string | null },
  ): Promise<CreateResult<RecordBlock>> {
    return this.http.created<RecordBlock>(
      this.http.authed(this.url(registry, ref, block), { ...json(input), method: "PATCH" }),
      `editing block ${block}`,
    );
  }

  delete(registry: string, ref: string, block: string): Promise<RecordBlock> {
    return this.http.request<RecordBlock>(
      this.url(registry, ref, block),
      { method: "DELETE" },
      `deleting block ${block}`,
    );
  }
}
