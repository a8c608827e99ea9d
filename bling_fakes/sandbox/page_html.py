"""The sandbox page's HTML, CSS and script (one self-contained document, no outside assets)."""

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>SANDBOX · Bling</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --ink:#1d2330; --muted:#6b7280; --line:#e5e7eb; --brand:#0b6bcb; --note:#fff7d6; --me:#dcf8c6; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:#f6f7f9; }
  .banner { background: repeating-linear-gradient(135deg,#ffcc00 0 18px,#1d2330 18px 36px); padding:6px; }
  .banner div { background:#ffcc00; color:#1d2330; font-weight:700; text-align:center; padding:8px; letter-spacing:.04em; }
  header { padding:12px 20px; display:flex; gap:16px; align-items:baseline; flex-wrap:wrap; }
  header h1 { margin:0; font-size:20px; }
  header small { color:var(--muted); }
  main { display:grid; grid-template-columns: minmax(300px, 1fr) minmax(0, 1.4fr); gap:16px; padding:0 20px 20px; }
  main > * { min-width:0; }
  section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:14px; }
  section h2 { margin:0 0 10px; font-size:15px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); }
  table { border-collapse:collapse; width:100%; font-size:13px; }
  td, th { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); vertical-align:top; }
  code { font-size:12px; word-break:break-all; }
  .phone { border:1px solid var(--line); border-radius:14px; padding:10px; margin-bottom:12px; background:#fafafa; }
  .phone h3 { margin:0 0 6px; font-size:14px; }
  .phone.whatsapp { border-color:#25d366; background:#f3fbf5; }
  .bubbles { display:flex; flex-direction:column; gap:4px; max-height:220px; overflow:auto; margin-bottom:8px; }
  .bubble { max-width:80%; padding:6px 10px; border-radius:12px; background:#e9ecf1; white-space:pre-wrap; overflow-wrap:anywhere; }
  .bubble.mine { align-self:flex-end; background:var(--me); }
  .bubble small { display:block; color:var(--muted); font-size:11px; }
  textarea, input, select { font:inherit; padding:6px; border:1px solid #cbd2d9; border-radius:6px; }
  textarea { width:100%; min-height:44px; }
  button { font:inherit; padding:6px 12px; border:0; border-radius:6px; background:var(--brand); color:#fff; cursor:pointer; }
  button.secondary { background:#4b5563; }
  .row { display:flex; gap:6px; align-items:center; flex-wrap:wrap; margin-top:4px; }
  .convs { display:flex; gap:12px; }
  .convlist { width:42%; border-right:1px solid var(--line); padding-right:8px; }
  .conv { padding:6px; border-radius:6px; cursor:pointer; }
  .conv:hover, .conv.open { background:#eef4fb; }
  .conv small { color:var(--muted); display:block; }
  .convview { flex:1; min-width:0; }
  .thread { border:1px solid var(--line); border-radius:8px; padding:8px; margin-bottom:6px; white-space:pre-wrap; overflow-wrap:anywhere; }
  .tag { display:inline-block; background:#e0e7ff; color:#3730a3; border-radius:10px; padding:0 8px; font-size:11px; margin-right:4px; }
  .jobs li { margin-bottom:4px; overflow-wrap:anywhere; }
  .thread.note { background:var(--note); }
  .thread.message { background:#e8f1fb; }
  .attachment { margin-top:4px; font-size:12px; color:#374151; }
  .thread .who { font-size:12px; color:var(--muted); }
  .muted { color:var(--muted); }
  .error { color:#b42318; }
  .calllog { font-family:ui-monospace, monospace; font-size:11px; white-space:pre-wrap; overflow-wrap:anywhere; color:#374151; }
  iframe.sidebar { width:100%; border:1px solid var(--line); border-radius:8px; min-height:120px; background:#fff; }
</style>
</head>
<body>
<div class="banner" data-testid="sandbox-banner"><div>SANDBOX — fake Twilio, fake Help Scout, fake phones. Nothing here reaches a real person.</div></div>
<header>
  <h1>Bling sandbox</h1>
  <small>Texts and calls go through Bling's real, signed webhook routes; Bling's API calls go to the stand-ins at /sandbox/twilio and /sandbox/helpscout.</small>
  <small id="status" class="muted"></small>
</header>
<main>
  <div>
    <section>
      <h2>Supporters' phones</h2>
      <div id="phones"></div>
      <div class="row"><input id="newphone" placeholder="+16175550199 or whatsapp:+4915112345679" aria-label="another phone"><button class="secondary" id="addphone">Add a phone</button></div>
    </section>
    <section style="margin-top:16px" id="agentsection">
      <h2>Agents' phones</h2>
      <div id="agents" class="muted">No calls yet.</div>
    </section>
    <section style="margin-top:16px" data-testid="jobs">
      <h2>Bling's jobs</h2>
      <div id="jobs" class="muted">No jobs yet.</div>
    </section>
    <section style="margin-top:16px">
      <details><summary><h2 style="display:inline">Hotlines</h2></summary>
      <table><thead><tr><th>Number</th><th>Help Scout mailbox</th><th>Twilio settings (from bling provision)</th></tr></thead>
      <tbody id="hotlines"></tbody></table></details>
    </section>
  </div>
  <section>
    <h2>Help Scout (sandbox)</h2>
    <div id="mailboxes"></div>
    <p class="muted" id="hooks"></p>
  </section>
</main>
<script>
"use strict";
const state = { data: null, open: null, extraPhones: [], sidebarFor: null };
const $ = (sel, root = document) => root.querySelector(sel);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}
function plain(html) {  // Help Scout bodies are HTML: show their text, never run them
  const doc = new DOMParser().parseFromString(String(html).replace(/<br\s*\/?>/gi, "\n").replace(/<\/(div|p)>/gi, "\n"), "text/html");
  return (doc.body.textContent || "").replace(/\n{3,}/g, "\n\n").trim();
}
function when(t) { return new Date(t * 1000).toLocaleTimeString(); }
function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }
const THREAD_LABELS = { customer: "Supporter's text", message: "Agent's reply", note: "Internal note", phone: "Phone call", chat: "Chat" };
function callLine(c) {
  const kind = { "inbound": "Call", "outbound-api": "Bling calls", "outbound-dial": "Rings" }[c.direction] || "Call";
  return `${kind} ${c.from} → ${c.to} · ${c.status} · ${when(c.at)}`;
}
function callList(calls) {
  return calls.map(c => el("details", { "data-testid": "call-" + c.sid }, el("summary", { text: callLine(c) }), el("div", { class: "calllog", text: c.log.join("\n") })));
}
async function act(name, body) {
  const res = await fetch("/sandbox/actions/" + name, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  $("#status").textContent = res.ok ? `${name}: done` : `${name}: ${data.error || data.description || res.status}`;
  $("#status").className = res.ok ? "muted" : "error";
  refresh();
  return data;
}
function renderHotlines(d) {
  const body = $("#hotlines"); body.replaceChildren();
  for (const h of d.hotlines) {
    const c = h.config || {};
    const settings = el("td");
    const keys = h.channel === "whatsapp" ? ["callback_url", "status_callback_url"] : ["sms_url", "sms_fallback_url", "voice_url", "status_callback"];
    for (const k of keys) if (c[k]) settings.append(el("div", {}, el("span", { class: "muted", text: k + ": " }), el("code", { text: c[k] })));
    if (!c[keys[0]]) settings.append(el("span", { class: "error", text: "not provisioned yet" }));
    body.append(el("tr", {}, el("td", { text: h.number }), el("td", { text: `${h.name} (${h.mailbox_id})` }), settings));
  }
}
function phoneCard(number, d) {
  let card = document.getElementById("phone-" + number);
  if (!card) {
    const channel = number.startsWith("whatsapp:") ? "whatsapp" : "sms";  // a WhatsApp phone writes to WhatsApp hotlines
    const select = el("select", { "aria-label": "hotline", "data-testid": "hotline-" + number });
    for (const h of d.hotlines) if ((h.channel || "sms") === channel) select.append(el("option", { value: h.number, text: h.number + " · " + h.name }));
    const text = el("textarea", { placeholder: channel === "whatsapp" ? "Type a WhatsApp message…" : "Type a text…", "data-testid": "text-" + number });
    const send = el("button", { "data-testid": "send-" + number, text: channel === "whatsapp" ? "Send on WhatsApp" : "Send text", onclick: async () => {
      if (!text.value.trim()) return;
      send.disabled = true;
      await act("text", { from: number, to: select.value, body: text.value });
      text.value = ""; send.disabled = false;
    } });
    const speech = el("input", { placeholder: "What you say in the voicemail", size: 28, "data-testid": "speech-" + number });
    const call = el("button", { class: "secondary", text: "Call (leave a voicemail)", "data-testid": "call-" + number, onclick: async () => {
      call.disabled = true; await act("call", { from: number, to: select.value, speech: speech.value }); call.disabled = false;
    } });
    card = el("div", { class: "phone" + (channel === "whatsapp" ? " whatsapp" : ""), id: "phone-" + number },
      el("h3", { text: channel === "whatsapp" ? "WhatsApp " + number.slice(9) : "Phone " + number }), el("div", { class: "bubbles", "data-testid": "bubbles-" + number }), el("div", { class: "calls" }),
      text, el("div", { class: "row" }, select, send), el("div", { class: "row voice" }, speech, call));
    $("#phones").append(card);
  }
  $(".voice", card).style.display = d.features.voice && !number.startsWith("whatsapp:") ? "" : "none";
  return card;
}
function renderPhones(d) {
  const known = d.phones.map(p => p.number);
  const phones = d.phones.concat(state.extraPhones.filter(n => !known.includes(n)).map(n => ({ number: n, messages: [], calls: [] })));
  for (const p of phones) {
    const card = phoneCard(p.number, d);
    const bubbles = $(".bubbles", card);
    const atBottom = bubbles.scrollTop + bubbles.clientHeight >= bubbles.scrollHeight - 4;
    bubbles.replaceChildren(...p.messages.map(m => el("div", { class: "bubble" + (m.mine ? " mine" : ""), title: m.note || "" },
      m.body, el("small", { text: `${m.mine ? "to" : "from"} ${m.other} · ${when(m.at)}${m.mine ? "" : " · " + m.status}` }))));
    if (atBottom) bubbles.scrollTop = bubbles.scrollHeight;
    $(".calls", card).replaceChildren(...callList(p.calls));
  }
}
function renderAgents(d) {
  const box = $("#agents");
  const withCalls = d.agent_phones.filter(a => a.calls.length);
  $("#agentsection").style.display = d.agent_phones.length ? "" : "none";
  if (!withCalls.length) { box.textContent = "Ring group: " + d.agent_phones.map(a => a.number).join(", ") + ". No calls yet."; return; }
  box.replaceChildren(...withCalls.map(a => el("div", { class: "phone" }, el("h3", { text: "Agent phone " + a.number }), ...callList(a.calls))));
}
function renderJobs(d) {
  const box = $("#jobs"), j = d.jobs, c = j.counts;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  if (!total) { box.textContent = "No jobs yet."; return; }
  const parts = [el("p", { "data-testid": "job-counts", text: `${plural(c.done || 0, "job")} done · ${c.pending || 0} waiting · ${plural(c.dead || 0, "dead letter")}` })];
  if (j.dead.length) parts.push(el("p", { class: "error", text: "Dead letters (see scripts/bling jobs show ID, replay with scripts/bling jobs replay ID):" }),
    el("ul", { class: "jobs", "data-testid": "dead-letters" }, ...j.dead.map(r => el("li", { text: `#${r.id} ${r.route}: ${r.error}` }))));
  if (j.waiting.length) parts.push(el("p", { text: "Waiting (retried automatically):" }),
    el("ul", { class: "jobs", "data-testid": "waiting-jobs" }, ...j.waiting.map(r => el("li", { text: `#${r.id} ${r.route} · next try ${when(r.next)}${r.error ? " · " + r.error : ""}` }))));
  box.className = ""; box.replaceChildren(...parts);
}
function renderMailboxes(d) {
  const root = $("#mailboxes");
  root.replaceChildren();
  for (const mb of d.mailboxes) {
    const list = el("div", { class: "convlist" });
    if (!mb.conversations.length) list.append(el("p", { class: "muted", text: "No conversations yet." }));
    for (const c of mb.conversations) {
      list.append(el("div", { class: "conv" + (state.open === c.id ? " open" : ""), "data-testid": "conversation-" + c.id, onclick: () => { state.open = c.id; state.sidebarFor = null; render(); } },
        el("strong", { text: c.subject }), el("small", { text: `#${c.id} · ${c.customer || "?"} · ${plural(c.threads.length, "thread")} · ${c.status}` }),
        c.tags.length ? el("div", { "data-testid": "tags-" + c.id }, ...c.tags.map(t => el("span", { class: "tag", text: t }))) : null));
    }
    const view = el("div", { class: "convview" });
    const open = mb.conversations.find(c => c.id === state.open);
    if (open) view.append(conversationView(open, d));
    else view.append(el("p", { class: "muted", text: mb.conversations.length ? "Open a conversation." : "" }));
    root.append(el("h3", { text: mb.name }), el("div", { class: "convs" }, list, view));
  }
  const hooks = d.webhooks.map(h => `#${h.id} ${h.state} ${h.url} (${(h.events || []).join(", ")}; mailboxes ${(h.mailboxIds || []).join(", ") || "all"})`);
  $("#hooks").textContent = "Webhooks: " + (hooks.join(" · ") || "none yet (bling provision --apply creates it)");
}
function conversationView(c, d) {
  const threads = c.threads.map(t => el("div", { class: "thread " + t.type, "data-testid": "thread-" + t.id },
    el("div", { class: "who", text: `${THREAD_LABELS[t.type] || t.type} · ${when(t.at)}` }), plain(t.body),
    ...t.attachments.map(a => el("div", { class: "attachment", "data-testid": "attachment", text: `Attached: ${a.name} (${a.type}, ${Math.round(a.bytes / 1024)} KB)` }))));
  const reply = el("textarea", { placeholder: "Reply to the supporter as an agent…", "data-testid": "reply-text" });
  const send = el("button", { text: "Reply as agent", "data-testid": "reply-send", onclick: async () => {
    if (!reply.value.trim()) return;
    send.disabled = true; await act("reply", { conversation: c.id, body: reply.value }); reply.value = ""; send.disabled = false;
  } });
  const parts = [el("h3", { text: c.subject }), ...threads, reply, el("div", { class: "row" }, send)];
  if (d.features.callback) {
    const load = el("button", { class: "secondary", text: "Show the sidebar app (Call back)", onclick: async () => {
      const data = await act("sidebar", { conversation: c.id }); state.sidebarFor = { id: c.id, html: data.html || "" }; render();
    } });
    parts.push(el("h4", { text: "Sidebar app" }), load);
    if (state.sidebarFor && state.sidebarFor.id === c.id) {  // no empty frame before it is asked for
      const frame = el("iframe", { class: "sidebar", sandbox: "allow-popups allow-popups-to-escape-sandbox", title: "sidebar app" });
      frame.srcdoc = '<base target="_blank">' + state.sidebarFor.html;
      parts.push(frame);
    }
  }
  return el("div", {}, ...parts);
}
let shownMailboxes = "";
function render() {
  const d = state.data; if (!d) return;
  renderHotlines(d); renderPhones(d); renderAgents(d); renderJobs(d);
  // Redraw Help Scout only when it changed: a redraw reloads the sidebar frame and drops a half-typed reply.
  const key = JSON.stringify([d.mailboxes, d.webhooks, d.features, state.open, state.sidebarFor]);
  const active = document.activeElement;
  if (key !== shownMailboxes && !(active && active.dataset && active.dataset.testid === "reply-text")) {
    shownMailboxes = key;
    renderMailboxes(d);
  }
}
async function refresh() {
  try {
    const res = await fetch("/sandbox/state", { cache: "no-store" });
    state.data = await res.json();
    render();
  } catch (e) { $("#status").textContent = "Bling is not answering: " + e; $("#status").className = "error"; }
}
$("#addphone").addEventListener("click", () => { const n = $("#newphone").value.trim(); if (n) { state.extraPhones.push(n); $("#newphone").value = ""; render(); } });
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""
