// hake web console: live rows, live logs and browser-side signing (DESIGN §11).
// Hand-written, no build step. Everything a job carries is inserted with textContent,
// never as markup. Signed requests are signed exactly as the CLI signs them: the
// signature covers the payload JSON text byte for byte, and that same text is sent.
"use strict";

(function () {
  const API = "/api/v1/requester";
  const enc = new TextEncoder();

  // ---- small helpers ------------------------------------------------------------

  const $ = (sel, root) => (root || document).querySelector(sel);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function b64(bytes) {
    let s = "";
    const a = new Uint8Array(bytes);
    for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
    return btoa(s);
  }

  function unb64(text) {
    const clean = text.replace(/[\s=]+/g, "").replace(/-/g, "+").replace(/_/g, "/");
    const s = atob(clean + "===".slice(0, (4 - (clean.length % 4)) % 4));
    const a = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return a;
  }

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  function setText(el, text) { if (el) el.textContent = text; }

  async function postJSON(path, body) {
    const resp = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = null;
    try { data = await resp.json(); } catch (_) { data = null; }
    return { ok: resp.ok, status: resp.status, data };
  }

  function errorText(r) {
    if (r.data && r.data.message) return r.data.message + " (" + r.status + " " + (r.data.code || "") + ")";
    return "HTTP " + r.status;
  }

  // ---- DER, for the PEM formats WebCrypto does not import directly ----------------

  function derLength(n) {
    if (n < 0x80) return Uint8Array.of(n);
    const bytes = [];
    while (n > 0) { bytes.unshift(n & 0xff); n >>= 8; }
    return Uint8Array.of(0x80 | bytes.length, ...bytes);
  }

  function der(tag, body) { return concat(Uint8Array.of(tag), derLength(body.length), body); }

  function derInteger(unsigned) {
    let i = 0;
    while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
    let v = unsigned.slice(i);
    if (v[0] & 0x80) v = concat(Uint8Array.of(0), v);
    return der(0x02, v);
  }

  const RSA_ALG_ID = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x01, 0x05, 0x00);
  const ED25519_OID = Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x70);

  // PKCS#1 RSAPrivateKey -> PKCS#8 PrivateKeyInfo.
  function pkcs1ToPkcs8(pkcs1) {
    return der(0x30, concat(Uint8Array.of(0x02, 0x01, 0x00), RSA_ALG_ID, der(0x04, pkcs1)));
  }

  function indexOf(hay, needle, from) {
    outer: for (let i = from || 0; i <= hay.length - needle.length; i++) {
      for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  // Any Ed25519 PKCS#8 (v1, or v2 with the public key as ed25519-dalek writes it) ->
  // the v1 form every WebCrypto imports: the 32-byte seed in an OCTET STRING.
  function ed25519Pkcs8(bytes) {
    const at = indexOf(bytes, ED25519_OID);
    const seedAt = indexOf(bytes, Uint8Array.of(0x04, 0x22, 0x04, 0x20), at);
    if (at < 0 || seedAt < 0 || seedAt + 36 > bytes.length) throw new Error("not an Ed25519 PKCS#8 key");
    const seed = bytes.slice(seedAt + 4, seedAt + 36);
    return concat(Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05), ED25519_OID,
      Uint8Array.of(0x04, 0x22, 0x04, 0x20), seed);
  }

  function parsePem(text) {
    const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
    if (!m) throw new Error("no PEM block found (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
    return { label: m[1], der: unb64(m[2]) };
  }

  // ---- keys: import, store in IndexedDB, sign ------------------------------------

  const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

  // Imports a PEM private key. Returns {alg, privateKey (non-extractable), publicKeyB64,
  // clientId} with the public key and ClientID the server derives (src/auth).
  async function importPem(text) {
    const pem = parsePem(text.trim());
    let alg, pkcs8;
    if (pem.label === "RSA PRIVATE KEY") {
      alg = "RSA"; pkcs8 = pkcs1ToPkcs8(pem.der);
    } else if (pem.label === "PRIVATE KEY") {
      if (indexOf(pem.der, ED25519_OID) >= 0) { alg = "Ed25519"; pkcs8 = ed25519Pkcs8(pem.der); }
      else { alg = "RSA"; pkcs8 = pem.der; }
    } else {
      throw new Error("unsupported PEM block " + pem.label + " (expected PRIVATE KEY or RSA PRIVATE KEY)");
    }
    const params = alg === "RSA" ? RSA : { name: "Ed25519" };
    // Imported once extractable only to read the public half, then again non-extractable.
    const tmp = await crypto.subtle.importKey("pkcs8", pkcs8, params, true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", tmp);
    let publicKey, idBytes;
    if (alg === "RSA") {
      const n = unb64(jwk.n), e = unb64(jwk.e);
      publicKey = der(0x30, concat(derInteger(n), derInteger(e)));
      idBytes = n;
    } else {
      publicKey = unb64(jwk.x);
      idBytes = publicKey;
    }
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, params, false, ["sign"]);
    const clientId = hex(await crypto.subtle.digest("SHA-256", idBytes));
    return { alg, privateKey, publicKeyB64: b64(publicKey), clientId };
  }

  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("hake-console", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function store(mode, fn) {
    const d = await db();
    try {
      return await new Promise((resolve, reject) => {
        const tx = d.transaction("keys", mode);
        const req = fn(tx.objectStore("keys"));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
      });
    } finally { d.close(); }
  }

  const saveKey = (k) => store("readwrite", (s) => s.put(k, "default"));
  const forgetKey = () => store("readwrite", (s) => s.delete("default"));
  const loadKey = () => store("readonly", (s) => s.get("default"));

  // Why signing is impossible here, or "" when it is possible.
  function signingBlocked() {
    if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
      return "This page is not a secure context (use HTTPS, or http://127.0.0.1 / localhost), so the browser cannot sign: logs, cancel and submit are disabled.";
    }
    if (!window.indexedDB) return "This browser has no IndexedDB to keep a key in: logs, cancel and submit are disabled.";
    return "";
  }

  let keyPromise = null;
  function currentKey() {
    if (!keyPromise) keyPromise = signingBlocked() ? Promise.resolve(null) : loadKey().catch(() => null);
    return keyPromise;
  }

  // The envelope text around `payload` (an object gaining ClientID, Timestamp, Nonce),
  // for the route `kind`; the last one per route is kept in window.hakeConsole.signed.
  async function signedBody(key, kind, payload) {
    const p = Object.assign({ ClientID: key.clientId }, payload, {
      Timestamp: Date.now(),
      Nonce: crypto.randomUUID(),
    });
    const text = JSON.stringify(p);
    const sig = await crypto.subtle.sign(key.alg === "RSA" ? RSA : { name: "Ed25519" },
      key.privateKey, enc.encode(text));
    const body = '{"client_public_key":' + JSON.stringify(key.publicKeyB64) +
      ',"signature":' + JSON.stringify(b64(sig)) + ',"payload":' + text + "}";
    window.hakeConsole.signed[kind] = { payload: text, signature: b64(sig), client_public_key: key.publicKeyB64 };
    return body;
  }

  // ---- every page: who am I, and why signing is off -----------------------------

  async function header() {
    const blocked = signingBlocked();
    const key = await currentKey();
    const off = $("#signing-off");
    if (blocked) {
      setText(off, blocked); off.hidden = false;
    } else if (!key) {
      off.textContent = "No key imported: logs, cancel and submit need your key. ";
      const a = document.createElement("a");
      a.href = "/ui/keys"; a.textContent = "Import it";
      off.append(a); off.hidden = false;
    }
    setText($("#whoami"), key ? key.alg + " key " + key.clientId.slice(0, 12) + "…" : "no key");
    if (key) $("#whoami").title = key.clientId;
    return key;
  }

  // Replaces the elements matching `selectors` with those of a fresh render of the page.
  async function refreshFrom(url, selectors) {
    const resp = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!resp.ok) return false;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const sel of selectors) {
      const now = $(sel), next = $(sel, doc);
      if (now && next) now.replaceWith(document.adoptNode(next));
    }
    return true;
  }

  // ---- jobs page ----------------------------------------------------------------

  async function jobsPage(key) {
    const mine = $("[data-action=mine]");
    if (mine) {
      if (key) {
        const u = new URL(location.href);
        u.searchParams.set("client", key.clientId);
        u.searchParams.delete("next");
        mine.href = u.pathname + u.search;
      } else {
        mine.title = "Import your key to list only your jobs";
      }
    }
    for (;;) {
      await sleep(1500);
      if (document.hidden) continue;
      try { await refreshFrom(location.href, ["#jobs tbody", "#pager"]); } catch (_) { /* retried */ }
    }
  }

  // ---- job page: live state -----------------------------------------------------

  const TERMINAL = ["Completed", "CompletedPartially", "Error", "Cancelled"];

  async function followState(jobId, onRefresh) {
    let version = Number($("#job").dataset.version || 0);
    let failures = 0;
    while ($("#job").dataset.active === "true") {
      const r = await postJSON(API + "/states", { job_id: jobId, after_version: version, wait_seconds: 5 })
        .catch(() => ({ ok: false, status: 0 }));
      if (!r.ok) { failures++; await sleep(Math.min(10000, 500 * 2 ** failures)); continue; }
      failures = 0;
      version = r.data.state.Version;
      // Execution changes do not always bump the job version: refresh on every answer.
      await refreshFrom(location.pathname, ["#summary", "#executions", "#history", "#results", "#actions"])
        .catch(() => false);
      const done = TERMINAL.includes(r.data.state.State);
      $("#job").dataset.active = done ? "false" : "true";
      onRefresh();
    }
  }

  // ---- job page: live logs ------------------------------------------------------

  function logView() {
    const box = $("#logs");
    const status = $("#log-status");
    let lastSeq = -1, ended = false;
    return {
      interrupted: false,
      get lastSeq() { return lastSeq; },
      get ended() { return ended; },
      status(text) { setText(status, text); },
      // Appends frames; a record seen before (by seq) is skipped, so resuming never repeats.
      frames(list) {
        const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 8;
        const frag = document.createDocumentFragment();
        for (const f of list) {
          if (f.Tag === 1 || f.Tag === 2) {
            if (typeof f.Seq === "number") { if (f.Seq <= lastSeq) continue; lastSeq = f.Seq; }
            const line = document.createElement("div");
            line.className = "line " + (f.Tag === 2 ? "stderr" : "stdout");
            line.dataset.seq = f.Seq;
            line.textContent = (f.Data || "").replace(/\r?\n$/, "");
            frag.append(line);
          } else if (f.Gap) {
            lastSeq = Math.max(lastSeq, f.Gap.To);
            const g = document.createElement("div");
            g.className = "line gap";
            g.textContent = "[log records " + f.Gap.From + "–" + f.Gap.To + " were dropped by the server]";
            frag.append(g);
          } else if (f.End) {
            // A server going down is not the end of the log: reconnect and resume.
            if (f.End.Reason === "server_shutdown") { this.interrupted = true; continue; }
            ended = true;
            const e = document.createElement("div");
            e.className = "line end";
            e.setAttribute("data-log-end", f.End.Reason);
            e.dataset.state = f.End.State;
            if (f.End.ExitCode !== undefined) e.dataset.exitCode = f.End.ExitCode;
            e.textContent = "End of log: " + f.End.Reason.replace(/_/g, " ") + ", state " + f.End.State +
              (f.End.ExitCode !== undefined ? ", exit code " + f.End.ExitCode : "");
            frag.append(e);
          }
        }
        box.append(frag);
        if (atBottom) box.scrollTop = box.scrollHeight;
      },
    };
  }

  async function streamLogs(key, jobId, view) {
    let attempt = 0;
    while (!view.ended) {
      const payload = { JobID: jobId, Follow: true, WithHistory: true };
      if (view.lastSeq >= 0) payload.AfterSeq = view.lastSeq;
      view.status(attempt ? "reconnecting…" : "connecting…");
      let resp;
      const abort = new AbortController();
      // Drops the connection as a network failure would (the page then resumes by seq).
      window.hakeConsole.dropLogStream = () => abort.abort();
      try {
        resp = await fetch(API + "/logs", {
          signal: abort.signal,
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/x-ndjson" },
          body: await signedBody(key, "logs", payload),
          credentials: "same-origin",
        });
      } catch (_) { resp = null; }
      if (resp && !resp.ok) {
        let data = null;
        try { data = await resp.json(); } catch (_) { data = null; }
        if (resp.status === 403) {
          view.status("Logs are shown to the job's owner only; your key is not the owner's.");
          return;
        }
        if (resp.status !== 429 && resp.status !== 503 && resp.status < 500) {
          view.status("Logs unavailable: " + errorText({ status: resp.status, data }));
          return;
        }
      } else if (resp) {
        attempt = 0;
        view.status("following");
        try {
          const reader = resp.body.getReader();
          const dec = new TextDecoder();
          let buf = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += dec.decode(value, { stream: true });
            const lines = buf.split("\n");
            buf = lines.pop();
            const frames = [];
            for (const l of lines) if (l.trim()) frames.push(JSON.parse(l));
            view.frames(frames);
            if (view.ended || view.interrupted) break;
          }
        } catch (_) { /* the connection broke: resume below */ }
      }
      if (view.ended) break;
      view.interrupted = false;
      window.hakeConsole.reconnects = (window.hakeConsole.reconnects || 0) + 1;
      attempt++;
      const wait = Math.min(10, 2 ** (attempt - 1));
      view.status("connection lost; retrying in " + wait + " s");
      await sleep(wait * 1000);
    }
    view.status("ended");
  }

  async function downloadLog(key, jobId) {
    const resp = await fetch(API + "/logs", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/plain" },
      body: await signedBody(key, "logs", { JobID: jobId, Follow: false, WithHistory: true }),
    });
    if (!resp.ok) { setText($("#log-status"), "download failed: HTTP " + resp.status); return; }
    const url = URL.createObjectURL(await resp.blob());
    const a = document.createElement("a");
    a.href = url; a.download = jobId + ".log";
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function wireCancel(key, jobId) {
    const btn = $("[data-action=cancel]");
    if (!btn) return;
    if (!key) { btn.disabled = true; btn.title = $("#signing-off").textContent; return; }
    if (key.clientId !== $("#job").dataset.owner) {
      btn.disabled = true;
      btn.title = "Only the job's owner can cancel it; your key is not the owner's.";
      return;
    }
    btn.disabled = false;
    btn.addEventListener("click", async () => {
      if (!confirm("Cancel job " + jobId + "?")) return;
      btn.disabled = true;
      const r = await postJSON(API + "/cancel",
        await signedBody(key, "cancel", { JobID: jobId, Reason: "cancelled from the web console" }))
        .catch(() => ({ ok: false, status: 0, data: null }));
      setText($("#action-status"), r.ok ? "Cancelled." : "Cancel failed: " + errorText(r));
      if (!r.ok) btn.disabled = false;
    });
  }

  async function jobPage(key) {
    const jobId = $("#job").dataset.jobId;
    wireCancel(key, jobId);
    followState(jobId, () => wireCancel(key, jobId));
    const wrap = $("[data-action=wrap]");
    wrap.addEventListener("change", () => $("#logs").classList.toggle("wrap", wrap.checked));
    const view = logView();
    if (!key) { view.status($("#signing-off").textContent); return; }
    if (key.clientId !== $("#job").dataset.owner) {
      view.status("Logs are shown to the job's owner only; your key is not the owner's.");
      return;
    }
    const dl = $("[data-action=download-log]");
    dl.disabled = false;
    dl.addEventListener("click", () => downloadLog(key, jobId).catch((e) => setText($("#log-status"), String(e))));
    streamLogs(key, jobId, view);
  }

  // ---- submit page --------------------------------------------------------------

  function submitPage(key) {
    const form = $("#submit-form");
    form.addEventListener("submit", (ev) => ev.preventDefault());
    const btn = $("[data-action=submit]");
    const status = $("#submit-status");
    if (!key) { setText(status, $("#signing-off").textContent); return; }
    btn.disabled = false;
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const text = form.elements.spec.value;
        const conv = await fetch("/ui/spec", { method: "POST", body: text, headers: { "Content-Type": "text/plain" } });
        const spec = await conv.json();
        if (!conv.ok) { setText(status, "Spec not understood: " + spec.message); return; }
        const r = await postJSON(API + "/submit", await signedBody(key, "submit", { APIVersion: "V1beta1", Spec: spec }));
        if (!r.ok) { setText(status, "Submit failed: " + errorText(r)); return; }
        location.href = "/ui/jobs/" + encodeURIComponent(r.data.job.Metadata.ID);
      } catch (e) {
        setText(status, "Submit failed: " + e.message);
      } finally { btn.disabled = false; }
    });
  }

  // ---- key page -----------------------------------------------------------------

  function keysPage(key) {
    const status = $("#key-status");
    const form = $("#key-form");
    form.addEventListener("submit", (ev) => ev.preventDefault());
    const show = (k) => setText(status, k ? "Imported " + k.alg + " key, ClientID " + k.clientId + "." : "No key imported.");
    show(key);
    const blocked = signingBlocked();
    if (blocked) {
      for (const b of form.querySelectorAll("button")) b.disabled = true;
      setText(status, blocked);
      return;
    }
    $("[data-action=save-key]").addEventListener("click", async () => {
      try {
        const k = await importPem(form.elements.key.value);
        await saveKey(k);
        form.elements.key.value = "";
        keyPromise = null;
        await header();
        show(k);
        $("#signing-off").hidden = true;
        status.dataset.clientId = k.clientId;
      } catch (e) {
        setText(status, "That key could not be imported: " + (e && e.message ? e.message : e));
      }
    });
    $("[data-action=forget-key]").addEventListener("click", async () => {
      await forgetKey();
      keyPromise = null;
      await header();
      show(null);
      delete status.dataset.clientId;
    });
  }

  // ---- start --------------------------------------------------------------------

  window.hakeConsole = { signed: {} };

  async function main() {
    const key = await header();
    const page = document.body.dataset.page;
    if (page === "jobs") jobsPage(key);
    else if (page === "job") jobPage(key);
    else if (page === "submit") submitPage(key);
    else if (page === "keys") keysPage(key);
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
