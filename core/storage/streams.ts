/** Helpers every backend shares: bounded uploads and reads that notice a changing object. */
import { LaminError } from "../errors.js";
import { StaleObjectError } from "./types.js";

/**
 * Pass `body` through, counting bytes into `counter.bytes`; more than `maxBytes` throws before
 * the excess chunk is passed on, so a writer consuming this never stores it.
 */
export async function* limitBytes(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  counter: { bytes: number },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    counter.bytes += chunk.byteLength;
    if (counter.bytes > maxBytes) {
      throw new LaminError(
        "too-large",
        `more than the declared ${maxBytes} bytes were sent`,
        "send exactly the declared size",
      );
    }
    yield chunk;
  }
}

const STALE_ATTEMPTS = 3;

/**
 * Hash-like reads of one object must all see the same version. A caller that named the version
 * (`ifEtag`) is told when it changed; otherwise the read simply starts over on the new version.
 */
export async function readConsistently<T>(
  ifEtag: string | undefined,
  read: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof StaleObjectError) || ifEtag !== undefined || attempt >= STALE_ATTEMPTS)
        throw error;
    }
  }
}
