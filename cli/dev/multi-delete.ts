/**
 * DeleteObjects (`POST /bucket?delete`) for `lamin dev`'s endpoint. s3rver's own reads the XML
 * loosely (a key `0001` becomes the number 1; CDATA, entities), never checks the keys, and
 * deletes without events. The front reads the request strictly here, checks every key before
 * deleting any, and deletes them one by one through s3rver, which emits an event for each, as S3
 * does.
 */
import { S3Failure, xmlText } from "./s3-error.js";

/** S3 deletes at most this many objects a request. */
const MAX_OBJECTS = 1000;

interface Element {
  name: string;
  children: Element[];
  text: string;
}

const malformed = (why: string) =>
  new S3Failure(
    "MalformedXML",
    400,
    `the XML you provided was not well-formed or did not validate against S3's schema: ${why}`,
  );

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeText(text: string): string {
  return text.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(";")) throw malformed("a bare & (write &amp;)");
    if (ENTITIES[name]) return ENTITIES[name];
    const code = /^#(\d{1,7})$/.exec(name)?.[1] ?? /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1];
    if (code === undefined) throw malformed(`unknown entity &${name};`);
    const point = Number.parseInt(code, name.startsWith("#x") ? 16 : 10);
    if (point > 0x10ffff) throw malformed(`bad character reference &${name};`);
    return String.fromCodePoint(point);
  });
}

/** Elements, attributes and text only: no DOCTYPE, CDATA, comments or processing instructions. */
function parseXml(xml: string): Element {
  const body = xml.replace(/^\uFEFF?\s*<\?xml\s[^<>]*\?>/, "");
  const token =
    /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)/y;
  const root: Element = { name: "", children: [], text: "" };
  const stack = [root];
  let at = 0;
  while (at < body.length) {
    token.lastIndex = at;
    const m = token.exec(body);
    if (!m) throw malformed(`unexpected ${JSON.stringify(body.slice(at, at + 20))}`);
    at = token.lastIndex;
    const [, close, name, , selfClosing, text] = m;
    const top = stack[stack.length - 1] as Element;
    if (text !== undefined) {
      top.text += decodeText(text);
    } else if (close) {
      if (top.name !== name || stack.length === 1) throw malformed(`unexpected </${name}>`);
      stack.pop();
    } else {
      const element: Element = { name: name as string, children: [], text: "" };
      top.children.push(element);
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length !== 1) throw malformed(`<${stack[stack.length - 1]?.name}> is not closed`);
  if (root.text.trim() || root.children.length !== 1) throw malformed("expected one root element");
  return root.children[0] as Element;
}

export interface DeleteRequest {
  keys: string[];
  /** Quiet mode: the answer lists only the failures. */
  quiet: boolean;
}

/** The keys of a `<Delete>` document. */
export function parseDeleteXml(xml: string): DeleteRequest {
  const root = parseXml(xml);
  if (root.name !== "Delete") throw malformed("the root element must be <Delete>");
  const keys: string[] = [];
  let quiet = false;
  for (const child of root.children) {
    if (child.name === "Quiet") quiet = child.text.trim() === "true";
    else if (child.name === "Object") {
      const key = child.children.filter((c) => c.name === "Key");
      if (key.length !== 1 || (key[0] as Element).children.length) {
        throw malformed("each <Object> needs one <Key>");
      }
      keys.push((key[0] as Element).text);
    } else throw malformed(`unexpected <${child.name}> in <Delete>`);
  }
  if (keys.length === 0 || keys.length > MAX_OBJECTS) {
    throw malformed(`a request deletes from 1 to ${MAX_OBJECTS} objects, not ${keys.length}`);
  }
  return { keys, quiet };
}

interface DeleteOutcome {
  key: string;
  error?: S3Failure;
}

/** S3's `DeleteResult` document. */
export function deleteResultXml(outcomes: readonly DeleteOutcome[], quiet: boolean): string {
  const entries = outcomes.map(({ key, error }) =>
    error
      ? `<Error><Key>${xmlText(key)}</Key><Code>${xmlText(error.code)}</Code><Message>${xmlText(error.message)}</Message></Error>`
      : quiet
        ? ""
        : `<Deleted><Key>${xmlText(key)}</Key></Deleted>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${entries.join("")}</DeleteResult>`;
}
