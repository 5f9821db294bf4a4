// Test fixture: a Diffie-Hellman private key for MSE (the spec's 768-bit prime, generator 2) whose
// public key begins 16 03, as a TLS record does. About 1 key in 65,536 does; the proxy took such a
// client for TLS and relayed it as plain (a CI run of mse-bridge.test met one by chance). Found by
// drawing random keys.
import { keyPairFrom } from '../../src/proxy/mse-handshake.js';

export const TLS_LIKE_MSE_PRIVATE_KEY = Uint8Array.from(
  Buffer.from(
    'fabe2b3936f3a60230bebd395a7aa8bbd7586ad25113dc4f8adb25fd803ce47528485e0841869040c11ae9239c8ee75fdcf58553ba0ba672a11f32504dd75fcb6a340b2d1eb88633aa69a6b69cb8328a13e2e27382c72eb098accb96e3cfd29c',
    'hex',
  ),
);

/** Its public key, 96 bytes: 16 03 54 06 75 e0 ... */
export const tlsLikeMsePublicKey = (): Uint8Array => keyPairFrom(TLS_LIKE_MSE_PRIVATE_KEY).publicKey;
