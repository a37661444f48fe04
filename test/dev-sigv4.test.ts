/**
 * `lamin dev`'s signature checks against AWS's published examples (the S3 SigV4 pages: GET
 * object, presigned URL, chunked upload with and without trailer), so they are AWS's algorithm
 * and not merely agree with themselves; and the strict readers of aws-chunked bodies and
 * DeleteObjects documents.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { AwsChunkedDecoder } from "../cli/dev/aws-chunked.js";
import { parseDeleteXml } from "../cli/dev/multi-delete.js";
import { S3Failure } from "../cli/dev/s3-error.js";
import { checkKey, parseTarget, targetPath } from "../cli/dev/s3-names.js";
import { type RequestHead, verifySigV4 } from "../cli/dev/sigv4.js";

const CREDS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const DOC_TIME = Date.UTC(2013, 4, 24);
const DATE = "20130524T000000Z";
const SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

function head(method: string, url: string, headers: Record<string, string>): RequestHead {
  const q = url.indexOf("?");
  return {
    method,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? "" : url.slice(q + 1),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
  };
}

/** The S3Failure `fn` throws (its code), or "accepted". */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof S3Failure) return error.code;
    throw error;
  }
  return "accepted";
}

const getObject = (changes: Record<string, string> = {}) =>
  head("GET", "/test.txt", {
    host: "examplebucket.s3.amazonaws.com",
    range: "bytes=0-9",
    "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "x-amz-date": DATE,
    authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    ...changes,
  });

const presigned = (
  signature = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
) =>
  head(
    "GET",
    `/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(SCOPE)}&X-Amz-Date=${DATE}&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=${signature}`,
    { host: "examplebucket.s3.amazonaws.com" },
  );

describe("SigV4 checks (AWS's examples)", () => {
  it("accepts AWS's signed GET, and refuses it changed, late, or with another key", () => {
    expect(verifySigV4(getObject(), CREDS, DOC_TIME).payload).toEqual({
      kind: "sha256",
      hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
    expect(failure(() => verifySigV4(getObject({ range: "bytes=0-99" }), CREDS, DOC_TIME))).toBe(
      "SignatureDoesNotMatch",
    );
    expect(
      failure(() => verifySigV4(getObject(), { ...CREDS, secretAccessKey: "x" }, DOC_TIME)),
    ).toBe("SignatureDoesNotMatch");
    expect(
      failure(() => verifySigV4(getObject(), { ...CREDS, accessKeyId: "OTHER" }, DOC_TIME)),
    ).toBe("InvalidAccessKeyId");
    expect(failure(() => verifySigV4(getObject(), CREDS, DOC_TIME + 16 * 60_000))).toBe(
      "RequestTimeTooSkewed",
    );
    // an x-amz- header the signature does not cover
    expect(
      failure(() => verifySigV4(getObject({ "x-amz-copy-source": "b/k" }), CREDS, DOC_TIME)),
    ).toBe("AccessDenied");
    const anonymous = head("GET", "/test.txt", { host: "examplebucket.s3.amazonaws.com" });
    expect(failure(() => verifySigV4(anonymous, CREDS, DOC_TIME))).toBe("AccessDenied");
  });

  it("accepts AWS's presigned URL until it expires, and not with another signature", () => {
    expect(verifySigV4(presigned(), CREDS, DOC_TIME + 86_400_000).payload).toEqual({
      kind: "unsigned",
    });
    expect(failure(() => verifySigV4(presigned(), CREDS, DOC_TIME + 86_401_000))).toBe(
      "AccessDenied",
    );
    expect(failure(() => verifySigV4(presigned("0".repeat(64)), CREDS, DOC_TIME))).toBe(
      "SignatureDoesNotMatch",
    );
  });
});

const AAA = Buffer.alloc(65_536, "a");
const A = Buffer.alloc(1024, "a");

/** AWS's chunked example: 64 KiB and 1 KiB of `a`, signed chunk by chunk. */
function chunkedExample(trailer: boolean) {
  const [seed, sigs, trailers] = trailer
    ? [
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
        [
          "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
          "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
          "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ],
        "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
      ]
    : [
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        [
          "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
          "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
          "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ],
        "",
      ];
  const body = Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    AAA,
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    A,
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n${trailers}\r\n`),
  ]);
  const signed = trailer
    ? "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
    : "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class";
  const request = head("PUT", "/examplebucket/chunkObject.txt", {
    "content-encoding": "aws-chunked",
    ...(trailer ? { "x-amz-trailer": "x-amz-checksum-crc32c" } : { "content-length": "66824" }),
    host: "s3.amazonaws.com",
    "x-amz-content-sha256": `STREAMING-AWS4-HMAC-SHA256-PAYLOAD${trailer ? "-TRAILER" : ""}`,
    "x-amz-date": DATE,
    "x-amz-decoded-content-length": "66560",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=${signed},Signature=${seed}`,
  });
  return { body, request };
}

/** Decode `body` as the verified request's payload says; the data, or the refusal's code. */
async function decode(request: RequestHead, body: Buffer, pieces = 1000): Promise<Buffer | string> {
  const { payload } = verifySigV4(request, CREDS, DOC_TIME);
  if (payload.kind !== "chunked") throw new Error(`not chunked: ${payload.kind}`);
  const out: Buffer[] = [];
  const parts = Array.from({ length: Math.ceil(body.length / pieces) }, (_, i) =>
    body.subarray(i * pieces, (i + 1) * pieces),
  );
  try {
    await pipeline(Readable.from(parts), new AwsChunkedDecoder(payload), async (data) => {
      for await (const chunk of data) out.push(chunk as Buffer);
    });
  } catch (error) {
    if (error instanceof S3Failure) return error.code;
    throw error;
  }
  return Buffer.concat(out);
}

describe("aws-chunked bodies (AWS's examples)", () => {
  it("decodes the signed example, with and without a signed trailer, in any framing", async () => {
    for (const trailer of [false, true]) {
      const { body, request } = chunkedExample(trailer);
      for (const pieces of [100, 4096, body.length]) {
        expect(await decode(request, body, pieces)).toEqual(Buffer.concat([AAA, A]));
      }
    }
  });

  it("refuses a changed byte, a missing last chunk, a changed trailer and a wrong length", async () => {
    for (const trailer of [false, true]) {
      const { body, request } = chunkedExample(trailer);
      const flipped = Buffer.from(body);
      flipped[1000] = 0x62; // a "b" inside the first chunk
      expect(await decode(request, flipped)).toBe("SignatureDoesNotMatch");
      const cut = body.subarray(0, body.indexOf("\r\n0;chunk-signature") + 2);
      expect(await decode(request, cut)).toBe("IncompleteBody");
      const longer = head(request.method, request.path, {
        ...Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, v?.[0] ?? ""])),
      });
      longer.headers["x-amz-decoded-content-length"] = ["70000"];
      expect(failure(() => verifySigV4(longer, CREDS, DOC_TIME))).toBe("SignatureDoesNotMatch");
    }
    const { body, request } = chunkedExample(true);
    const retrailed = Buffer.from(
      body.toString("latin1").replace("sOO8/Q==", "AAAAAA=="),
      "latin1",
    );
    expect(await decode(request, retrailed)).toBe("SignatureDoesNotMatch");
  });
});

describe("names lamin dev's store can hold", () => {
  it("decodes paths as s3rver does and refuses what would leave the folder", () => {
    expect(parseTarget("/lab/a%20b/c%2Fd")).toEqual({ bucket: "lab", key: "a b/c/d" });
    expect(targetPath({ bucket: "lab", key: "a b/c+d/" })).toBe("/lab/a%20b/c%2Bd/");
    for (const path of ["/lab/..%2Fx", "/lab/a/%2e%2e/%2E%2E/x", "//x", "/%2E%2E/x", "/lab/a%00"]) {
      expect(
        failure(() => parseTarget(path)),
        path,
      ).not.toBe("accepted");
    }
    expect(failure(() => checkKey(`a/${"x".repeat(234)}`))).toBe("KeyTooLongError");
    expect(failure(() => checkKey(`a/${"x".repeat(233)}`))).toBe("accepted");
    expect(failure(() => checkKey("a/b._S3rver_object/c"))).toBe("InvalidArgument");
  });
});

describe("DeleteObjects documents", () => {
  it("reads keys exactly, and refuses what a loose XML parser would read differently", () => {
    expect(
      parseDeleteXml(
        '<?xml version="1.0"?><Delete xmlns="x"><Quiet>true</Quiet><Object><Key>0001</Key></Object><Object><Key>a &amp; b &lt;&#x1F600;&gt;</Key></Object></Delete>',
      ),
    ).toEqual({ keys: ["0001", "a & b <😀>"], quiet: true });
    for (const xml of [
      "<Delete><Object><Key><![CDATA[../x]]></Key></Object></Delete>",
      '<!DOCTYPE d [<!ENTITY e "../x">]><Delete><Object><Key>&e;</Key></Object></Delete>',
      "<Delete><Object><Key>a<!-- c --></Key></Object></Delete>",
      "<Delete><Object><Key>unclosed</Key></Object>",
      "<Delete></Delete>",
      "not xml",
    ]) {
      expect(
        failure(() => parseDeleteXml(xml)),
        xml,
      ).toBe("MalformedXML");
    }
  });
});
