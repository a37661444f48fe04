/**
 * The aws-chunked body encoding (`Content-Encoding: aws-chunked`) that S3 clients use to stream
 * uploads: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` ... a 0-size chunk, trailing
 * headers (checksums, their signature), an empty line. s3rver would store the framing as data;
 * this decodes it, checks the chunk signatures when the request signed them, and refuses a body
 * that ends early or carries more or less than it declared.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { S3Failure } from "./s3-error.js";
import { type ChunkChain, EMPTY_SHA256 } from "./sigv4.js";

/** No chunk header or trailing header line is longer (they are tens of bytes). */
const MAX_LINE = 4096;

const incomplete = (why: string) =>
  new S3Failure(
    "IncompleteBody",
    400,
    `the upload is incomplete: ${why}; send the whole body again`,
  );
const malformed = (why: string) =>
  new S3Failure("InvalidRequest", 400, `the aws-chunked body is malformed: ${why}`);

export class AwsChunkedDecoder extends Transform {
  /** Data bytes passed on so far. */
  decoded = 0;
  /** The trailing headers (checksums), once the body ended. */
  readonly trailers = new Map<string, string>();
  private state: "size" | "data" | "data-end" | "trailer" | "done" = "size";
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private hash: Hash | undefined;
  private signature = "";
  private trailerLines: string[] = [];

  constructor(
    private readonly opts: { decodedLength: number; trailer: boolean; chain?: ChunkChain },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.state === "done" ? null : incomplete("the body ended before its last chunk"));
  }

  private consume(buf: Buffer): void {
    let at = 0;
    while (at < buf.length) {
      if (this.state === "data") {
        const n = Math.min(this.remaining, buf.length - at);
        const piece = buf.subarray(at, at + n);
        this.hash?.update(piece);
        this.push(piece);
        this.decoded += n;
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.state = "data-end";
        continue;
      }
      const lf = buf.indexOf(0x0a, at);
      const end = lf < 0 ? buf.length : lf + 1;
      this.line.push(buf.subarray(at, end));
      this.lineLength += end - at;
      at = end;
      if (this.lineLength > MAX_LINE) throw malformed("a chunk header line is too long");
      if (lf < 0) continue;
      const text = Buffer.concat(this.line).toString("latin1");
      this.line = [];
      this.lineLength = 0;
      if (!text.endsWith("\r\n")) throw malformed("lines must end with CRLF");
      this.onLine(text.slice(0, -2));
    }
  }

  private onLine(text: string): void {
    switch (this.state) {
      case "data-end":
        if (text !== "") throw malformed("a chunk holds more data than its size says");
        this.opts.chain?.chunk(this.hash?.digest("hex") ?? "", this.signature);
        this.state = "size";
        return;
      case "size":
        this.onSize(text);
        return;
      case "trailer":
        if (text === "") this.onTrailers();
        else this.trailerLines.push(text);
        return;
      default:
        throw malformed("bytes follow the end of the body");
    }
  }

  private onSize(text: string): void {
    const [hex = "", ...extensions] = text.split(";");
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw malformed(`bad chunk size ${JSON.stringify(hex)}`);
    const size = Number.parseInt(hex, 16);
    if (this.opts.chain) {
      const sig = extensions.find((e) => e.startsWith("chunk-signature="))?.slice(16) ?? "";
      if (!/^[0-9a-fA-F]{64}$/.test(sig)) throw malformed("a chunk has no chunk-signature");
      this.signature = sig;
    }
    if (this.decoded + size > this.opts.decodedLength) {
      throw incomplete(
        `the chunks carry more than the ${this.opts.decodedLength} bytes of x-amz-decoded-content-length`,
      );
    }
    if (size === 0) {
      this.opts.chain?.chunk(EMPTY_SHA256, this.signature);
      if (this.decoded !== this.opts.decodedLength) {
        throw incomplete(
          `it carries ${this.decoded} of the ${this.opts.decodedLength} bytes it declared`,
        );
      }
      this.state = "trailer";
      return;
    }
    this.remaining = size;
    this.hash = this.opts.chain ? createHash("sha256") : undefined;
    this.state = "data";
  }

  private onTrailers(): void {
    if (this.trailerLines.length && !this.opts.trailer) {
      throw malformed("trailing headers were sent without x-amz-trailer");
    }
    let signature: string | undefined;
    const signed: string[] = [];
    for (const line of this.trailerLines) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw malformed(`bad trailing header ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "x-amz-trailer-signature") signature = value;
      else {
        this.trailers.set(name, value);
        signed.push(`${name}:${value}\n`);
      }
    }
    if (this.opts.chain && this.opts.trailer) {
      if (!signature) throw malformed("the trailing headers carry no x-amz-trailer-signature");
      this.opts.chain.trailer(signed.join(""), signature);
    }
    this.state = "done";
  }
}
