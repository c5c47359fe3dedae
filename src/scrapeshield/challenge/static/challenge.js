// scrapeshield challenge page: run the proof of work in Web Workers, then post the answer.
(() => {
  const config = JSON.parse(document.getElementById("ss-config").textContent);
  const status = document.getElementById("ss-status");
  const progress = document.getElementById("ss-progress");
  const form = document.getElementById("ss-form");
  const say = config.messages;  // the page's language (pages/catalogues)
  const needsJs = document.getElementById("ss-needs-js");
  if (needsJs) needsJs.hidden = true;
  if (!window.Worker || !window.Blob || !window.URL) {
    status.textContent = say.unsupported;
    return;
  }
  progress.hidden = false;
  status.textContent = say.working;  // a live region: read out once, not at every step
  let halfway = false;
  const source = document.getElementById("ss-worker").textContent;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const count = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
  const expected = Math.pow(2, config.difficulty);
  const started = performance.now();
  const workers = [];
  let hashes = 0;
  let done = false;
  const finish = (counter) => {
    done = true;
    workers.forEach((w) => w.terminate());
    form.elements.counter.value = String(counter);
    form.elements.elapsed.value = String(Math.round(performance.now() - started));
    form.elements.hashes.value = String(hashes);
    progress.value = 1;
    status.textContent = say.done;
    form.submit();
  };
  for (let i = 0; i < count; i++) {
    const worker = new Worker(url);
    workers.push(worker);
    worker.onmessage = (event) => {
      if (done) return;
      if (event.data.progress) {
        hashes += event.data.progress;
        progress.max = 1;
        progress.value = Math.min(0.95, hashes / expected);
        if (!halfway && progress.value >= 0.5) {
          halfway = true;
          status.textContent = say.halfway;
        }
        return;
      }
      hashes += event.data.hashes;
      finish(event.data.counter);
    };
    worker.onerror = () => {
      status.textContent = say.error;
    };
    worker.postMessage({ nonce: config.nonce, difficulty: config.difficulty, start: i, stride: count });
  }
})();
