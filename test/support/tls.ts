import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

/** PEM files of a test certificate. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * Writes a self-signed P-256 certificate for 127.0.0.1 / localhost into `dir` (`cert.pem`,
 * `key.pem`) with openssl, valid for `days`.
 */
export function makeCertificate(dir: string, days = 1): CertificateFiles {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** A certificate in a fresh temporary directory and a fetch that trusts it. */
export interface TestTls extends CertificateFiles {
  /** undici's fetch through an agent whose only CA is {@link CertificateFiles.cert}. */
  readonly fetch: (
    url: string,
    init?: Parameters<typeof undiciFetch>[1],
  ) => ReturnType<typeof undiciFetch>;
  /** Closes the agent and removes the directory. */
  close(): Promise<void>;
}

/** Makes a certificate under a new `<tmp>/<prefix>XXXXXX` directory (see {@link TestTls}). */
export function testTls(prefix: string): TestTls {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const files = makeCertificate(dir);
  const agent = new Agent({ connect: { ca: readFileSync(files.cert) } });
  return {
    ...files,
    fetch: (url, init = {}) => undiciFetch(url, { ...init, dispatcher: agent }),
    close: async () => {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
