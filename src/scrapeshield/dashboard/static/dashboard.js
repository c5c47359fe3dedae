// scrapeshield dashboard: the live tail polls tail.json (no inline script: the CSP forbids it).
"use strict";
(function () {
  const status = document.getElementById("tail-status");
  if (!status) return;
  const url = status.dataset.url;
  const base = status.dataset.base;
  const every = Math.max(500, Number(status.dataset.interval) * 1000);
  const stopAt = Date.now() + 30 * 60 * 1000;  // a deadline: an open tab does not poll forever
  const body = document.querySelector("#events tbody");
  let after = status.dataset.after;

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function add(e) {
    const row = document.createElement("tr");
    row.dataset.id = e.id;
    cell(row, e.ts);
    cell(row, e.action + (e.enforced === false ? " (monitor)" : ""), "a-" + e.action);
    cell(row, e.rule);
    const client = cell(row, "");
    const link = document.createElement("a");
    link.href = base + "/client?key=" + encodeURIComponent(e.client_key);
    link.textContent = e.client_key;
    client.appendChild(link);
    cell(row, e.method + " " + String(e.path).slice(0, 80));
    cell(row, String(e.user_agent || "").slice(0, 60));
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
  }

  async function poll() {
    if (Date.now() > stopAt) {
      status.textContent = "Live tail paused after 30 minutes; reload the page to go on.";
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10000);
    try {
      const query = after ? "?after=" + encodeURIComponent(after) : "";
      const response = await fetch(url + query, { signal: controller.signal, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        for (const e of data.events) { add(e); after = e.id; }
      }
    } catch (err) {
      // a missed poll: the next one asks again from the same id
    } finally {
      clearTimeout(timer);
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);
})();
