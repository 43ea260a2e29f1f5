import type { IncomingMessage } from 'node:http';
import { MercureError } from './mercure.errors';

/**
 * Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes.
 * @throws MercureError 415 (another content type), 413 (larger than `limit`), 400 (not UTF-8).
 */
export async function readFormBody(req: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new MercureError(415, 'a Mercure update must be application/x-www-form-urlencoded');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new MercureError(413, `the update is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new MercureError(413, `the update is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new MercureError(400, 'the update is not valid UTF-8', 'invalid_request');
  }
  return new URLSearchParams(text);
}
