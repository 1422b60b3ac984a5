// The metrics server's certificate and key, read from files (a kubernetes.io/tls
// Secret mounted into the pod) and re-read when they change: the kubelet swaps
// a Secret volume's ..data symlink when the Secret is updated (cert-manager
// renewals), so the files are polled by content rather than watched by inode.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Reads both files and checks that they make a usable context (a key that does not match fails here). */
export function readKeyPair(certFile: string, keyFile: string): KeyPair {
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  createSecureContext(pair);
  return pair;
}

export class CertificateReloader {
  private current: KeyPair;
  private timer: NodeJS.Timeout | undefined;
  reloads = 0;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly apply: (pair: KeyPair) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.current = readKeyPair(certFile, keyFile);
  }

  get pair(): KeyPair {
    return this.current;
  }

  /** Two small reads per period; a half-written pair (cert renewed, key not yet) fails the check and is retried next period. */
  start(periodMs: number): void {
    this.timer = setInterval(() => this.check(), periodMs);
    this.timer.unref();
  }

  check(): boolean {
    let next: KeyPair;
    try {
      next = readKeyPair(this.certFile, this.keyFile);
    } catch (err) {
      this.onError(err);
      return false;
    }
    if (next.cert.equals(this.current.cert) && next.key.equals(this.current.key)) return false;
    this.current = next;
    this.apply(next);
    this.reloads++;
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
