// scrapeshield proof-of-work worker: find a counter whose SHA-256(nonce + ":" + counter)
// starts with `difficulty` zero bits. SHA-256 is computed here in plain JavaScript (FIPS 180-4):
// one WebCrypto digest per candidate costs a promise and a thread hop, about ten times the
// hash itself, and the person's time per pass is what sets how hard the check can be.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const W = new Int32Array(64);
const H = new Int32Array(8);
const INITIAL = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

// SHA-256 over `length` bytes of `buf` (which has room for the padding) into H.
function sha256(buf, length) {
  const blocks = (length + 9 + 63) >> 6;
  buf.fill(0, length, blocks * 64);
  buf[length] = 0x80;
  const bits = length * 8;
  const end = blocks * 64;
  buf[end - 4] = bits >>> 24; buf[end - 3] = bits >>> 16; buf[end - 2] = bits >>> 8; buf[end - 1] = bits;
  for (let i = 0; i < 8; i++) H[i] = INITIAL[i];
  for (let offset = 0; offset < end; offset += 64) {
    for (let t = 0; t < 16; t++) {
      const j = offset + t * 4;
      W[t] = (buf[j] << 24) | (buf[j + 1] << 16) | (buf[j + 2] << 8) | buf[j + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15], y = W[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
    }
    let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
}

function leadingZeroBits() {
  return H[0] === 0 ? 32 + Math.clz32(H[1]) : Math.clz32(H[0]);
}

self.onmessage = (event) => {
  const { nonce, difficulty, start, stride } = event.data;
  const prefix = new TextEncoder().encode(nonce + ":");
  const buf = new Uint8Array(((prefix.length + 20 + 9 + 63) >> 6) * 64);
  buf.set(prefix);
  const batch = 4096;
  let counter = start;
  for (;;) {
    for (let i = 0; i < batch; i++, counter += stride) {
      const digits = String(counter);
      let length = prefix.length;
      for (let k = 0; k < digits.length; k++) buf[length++] = digits.charCodeAt(k);
      sha256(buf, length);
      if (leadingZeroBits() >= difficulty) {
        self.postMessage({ counter, hashes: i + 1 });
        return;
      }
    }
    self.postMessage({ progress: batch });
  }
};
