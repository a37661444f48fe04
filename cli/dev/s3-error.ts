/** Refusals of `lamin dev`'s S3 endpoint, in the XML shape S3 clients parse. */
import { randomBytes } from "node:crypto";

/** A request refused the way S3 would refuse it: S3's error code, HTTP status and a message. */
export class S3Failure extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "S3Failure";
  }
}

/** Text as XML character data; characters XML 1.0 cannot hold at all become U+FFFD. */
export function xmlText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const unfit = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
  return text
    .replace(unfit, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** S3's error document. */
export function errorXml(failure: S3Failure, resource?: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Error><Code>${xmlText(failure.code)}</Code><Message>${xmlText(failure.message)}</Message>`,
    resource ? `<Resource>${xmlText(resource)}</Resource>` : "",
    `<RequestId>${randomBytes(8).toString("hex").toUpperCase()}</RequestId></Error>`,
  ].join("");
}

/** How a key or value is shown in a message: quoted, with invisible characters escaped. */
export function shown(text: string, max = 120): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(cut);
}
