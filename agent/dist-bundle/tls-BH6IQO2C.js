// agent/dist/metrics/tls.js
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
function readKeyPair(certFile, keyFile) {
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  createSecureContext(pair);
  return pair;
}
var CertificateReloader = class {
  certFile;
  keyFile;
  apply;
  onError;
  current;
  timer;
  reloads = 0;
  constructor(certFile, keyFile, apply, onError) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.apply = apply;
    this.onError = onError;
    this.current = readKeyPair(certFile, keyFile);
  }
  get pair() {
    return this.current;
  }
  /** Two small reads per period; a half-written pair (cert renewed, key not yet) fails the check and is retried next period. */
  start(periodMs) {
    this.timer = setInterval(() => this.check(), periodMs);
    this.timer.unref();
  }
  check() {
    let next;
    try {
      next = readKeyPair(this.certFile, this.keyFile);
    } catch (err) {
      this.onError(err);
      return false;
    }
    if (next.cert.equals(this.current.cert) && next.key.equals(this.current.key))
      return false;
    this.current = next;
    this.apply(next);
    this.reloads++;
    return true;
  }
  stop() {
    clearInterval(this.timer);
    this.timer = void 0;
  }
};
export {
  CertificateReloader,
  readKeyPair
};
