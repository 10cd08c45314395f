// A test-made certificate authority and server certificates for 127.0.0.1 (openssl), so
// clients verify Berth's HTTPS for real: no --tls-verify=false, no insecure registries.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { run } from './exec.ts';

export interface TestCa { dir: string; cert: string; key: string }
export interface ServerCert { cert: string; key: string; chain: string }

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export async function makeCa(dir: string): Promise<TestCa> {
  const ca = { dir, cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  await run('openssl', ['req', '-x509', ...EC, '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', '/CN=berth-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return ca;
}

/** A server certificate for 127.0.0.1 signed by `ca`; `chain` is it followed by the CA (a PEM chain). */
export async function makeServerCert(ca: TestCa, dir: string, name: string): Promise<ServerCert> {
  const base = join(dir, name);
  const ext = `${base}.ext`;
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['req', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=127.0.0.1/O=${name}`]);
  await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', `${base}.crt`, '-days', '2', '-extfile', ext]);
  writeFileSync(`${base}.chain.crt`, readFileSync(`${base}.crt`, 'utf8') + readFileSync(ca.cert, 'utf8'));
  return { cert: `${base}.crt`, key: `${base}.key`, chain: `${base}.chain.crt` };
}

/** The SHA-256 fingerprint of the certificate a TLS server at 127.0.0.1:port presents, verified against `caFile`. */
export function servedFingerprint(port: number, caFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(caFile) }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/** The SHA-256 fingerprint of a PEM certificate file, as servedFingerprint writes it. */
export async function fileFingerprint(certFile: string): Promise<string> {
  const out = await run('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
  return out.stdout.trim().split('=')[1]!;
}
