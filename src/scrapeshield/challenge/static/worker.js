// scrapeshield proof-of-work worker: find a counter whose SHA-256(nonce + ":" + counter)
// starts with `difficulty` zero bits. Hashes are computed in batches with WebCrypto.
self.onmessage = async (event) => {
  const { nonce, difficulty, start, stride } = event.data;
  const encoder = new TextEncoder();
  const whole = difficulty >> 3;
  const mask = (0xff << (8 - (difficulty & 7))) & 0xff;
  const batch = 512;
  let counter = start;
  for (;;) {
    const jobs = new Array(batch);
    for (let i = 0; i < batch; i++) {
      jobs[i] = crypto.subtle.digest("SHA-256", encoder.encode(nonce + ":" + (counter + i * stride)));
    }
    const digests = await Promise.all(jobs);
    for (let i = 0; i < batch; i++) {
      const hash = new Uint8Array(digests[i]);
      let ok = true;
      for (let j = 0; j < whole; j++) {
        if (hash[j] !== 0) { ok = false; break; }
      }
      if (ok && (difficulty & 7) && (hash[whole] & mask) !== 0) ok = false;
      if (ok) {
        self.postMessage({ counter: counter + i * stride, hashes: i + 1 });
        return;
      }
    }
    counter += batch * stride;
    self.postMessage({ progress: batch });
  }
};
