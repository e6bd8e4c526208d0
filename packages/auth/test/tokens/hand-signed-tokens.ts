import { type KeyObject, createHmac, sign } from 'node:crypto';

/** base64url of a JSON value or raw bytes. */
export function b64url(value: unknown): string {
  const bytes = value instanceof Uint8Array ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return Buffer.from(bytes).toString('base64url');
}

/** How a hand-made token is signed: with a private key of an algorithm, an HMAC secret, or not at all. */
export type HandSigner =
  | { readonly alg: 'EdDSA' | 'ES256' | 'RS256'; readonly privateKey: KeyObject }
  | { readonly alg: 'HS256'; readonly secret: Uint8Array | string }
  | { readonly alg: 'none' };

/**
 * A compact JWS built byte by byte with node:crypto, so tests control every header parameter and
 * claim (jose refuses to produce many of the tokens attackers send).
 */
export function handSignedToken(header: Record<string, unknown>, payload: Record<string, unknown> | string, signer: HandSigner): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const data = Buffer.from(signingInput);
  let signature: Buffer;
  switch (signer.alg) {
    case 'none':
      return `${signingInput}.`;
    case 'HS256':
      signature = createHmac('sha256', signer.secret).update(data).digest();
      break;
    case 'EdDSA':
      signature = sign(null, data, signer.privateKey);
      break;
    case 'ES256':
      signature = sign('sha256', data, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
      break;
    case 'RS256':
      signature = sign('sha256', data, signer.privateKey);
      break;
  }
  return `${signingInput}.${b64url(signature)}`;
}
