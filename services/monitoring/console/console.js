// The operations console's script, served by monitoring itself so that the page's CSP allows
// scripts from its own origin only.
"use strict";
const token = () => sessionStorage.getItem("lantern-token");
const text = (value) => document.createTextNode(value === null || value === undefined ? "" : String(value));
function row(cells, header) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement(header ? "th" : "td");
    if (cell instanceof Node) td.appendChild(cell); else td.appendChild(text(cell));
    tr.appendChild(td);
  }
  return tr;
}
function badge(kind, label) { const span = document.createElement("span"); span.className = kind; span.textContent = label; return span; }
function fill(id, header, rows) {
  const table = document.getElementById(id);
  table.replaceChildren(row(header, true), ...rows.map((cells) => row(cells)));
}
// A duration people read: "23 h 59 min", "4 min 05 s" under ten minutes, "overdue 12 min" past due.
function duration(seconds) {
  const total = Math.abs(Math.round(seconds)), days = Math.floor(total / 86400), hours = Math.floor(total % 86400 / 3600);
  const minutes = Math.floor(total % 3600 / 60), rest = total % 60;
  if (days) return days + " d " + hours + " h";
  if (hours) return hours + " h " + String(minutes).padStart(2, "0") + " min";
  if (minutes >= 10) return minutes + " min";
  return minutes + " min " + String(rest).padStart(2, "0") + " s";
}
function clock(deadline) {
  const seconds = (new Date(deadline) - Date.now()) / 1000;
  return seconds < 0 ? WORDS[lang()].overdue + " " + duration(seconds) : duration(seconds);
}
const WORDS = {
  en: { overdue: "overdue", chart: "Tips received per hour over the last 24 hours", queue: { expedited: "expedited", standard: "standard" },
        cases: ["Reference", "Queue", "Due in", "State"], waiting: "waiting", oldest: "oldest due in", late: "overdue" },
  fr: { overdue: "en retard de", chart: "Signalements reçus par heure, 24 dernières heures", queue: { expedited: "accélérée", standard: "normale" },
        cases: ["Référence", "File", "Échéance dans", "État"], waiting: "en attente", oldest: "plus ancienne échéance dans", late: "en retard" },
};
const lang = () => sessionStorage.getItem("lantern-lang") === "fr" ? "fr" : "en";
let chartUrl = null, chartAt = 0;
async function chart() {
  const answer = await fetch("/v1/console/charts/tips-by-hour.svg?lang=" + lang(), { headers: { Authorization: "Bearer " + token() } });
  if (!answer.ok) return;
  const image = document.getElementById("chart");
  if (chartUrl) URL.revokeObjectURL(chartUrl);
  chartUrl = URL.createObjectURL(await answer.blob());
  image.src = chartUrl;
  image.alt = WORDS[lang()].chart;
  chartAt = Date.now();
}
async function api(path) {
  const answer = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (answer.status === 401 || answer.status === 403) { sessionStorage.removeItem("lantern-token"); throw new Error("signin"); }
  return answer.json();
}
function flag(item) { return item.breached ? badge("breached", "breached") : item.at_risk ? badge("at_risk", "at risk") : text("on time"); }
async function refresh() {
  try {
    const state = await api("/v1/console/state");
    fill("urgent", ["Reference", "Next step due in", "Status", "Acknowledged"],
      state.urgent_waiting.map((p) => [p.reference, p.next_deadline ? clock(p.next_deadline) : "-", flag(p), p.acknowledged ? "yes" : "no"]));
    fill("deadlines", ["Reference", "Step", "Due in", "Flag"],
      state.deadlines.map((d) => [d.reference, d.step, clock(d.deadline), flag(d)]));
    const q = state.review_queue;
    const words = WORDS[lang()];
    document.getElementById("reviews").textContent = ["expedited", "standard"].map((name) => {
      const queue = q.queues[name];
      return words.queue[name] + ": " + queue.waiting + " " + words.waiting + ", " + words.oldest + " "
        + (queue.oldest_due ? clock(queue.oldest_due) : "-") + ", " + words.late + " " + queue.overdue;
    }).join(" · ");
    fill("review-cases", words.cases, (q.cases || []).map((c) =>
      [c.reference || "-", words.queue[c.queue] || c.queue, c.due ? clock(c.due) : "-", c.state]));
    fill("services", ["Service", "Health", "Database", "Broker", "Consumers", "Lag", "Outbox quarantined"], state.services.map((s) =>
      [s.name, badge(s.status === "ok" ? "ok" : "down", s.status), s.database || "-", s.broker || "-",
       s.consumers || "-", s.lag || "-", s.quarantined || "-"]));
    fill("dead", ["Dead-letter topic", "Messages"], Object.entries(state.dead_letters).map(([t, n]) =>
      [t, n > 0 ? badge("breached", String(n)) : "0"]));
    if (Date.now() - chartAt > 60000) await chart();
    document.getElementById("mix").textContent = Object.entries(state.urgency_mix).map(([k, v]) => k + ": " + v).join(" · ");
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    const alerts = await api("/v1/alerts");
    fill("alerts", ["Reference", "Step or queue", "Flag", "Due in", "Paged", "Page"],
      alerts.alerts.map((a) => [a.reference, a.subject,
        a.kind === "outbox_row_quarantined" ? badge("breached", "outbox row quarantined")
          : a.kind.endsWith("breached") ? badge("breached", "breached") : badge("at_risk", "at risk"),
        clock(a.deadline), a.paged.join(", "),
        a.page ? badge(a.page.status === "delivered" ? "ok" : a.page.status === "failed" ? "down" : "", a.page.status) : "-"]));
  } catch (error) { if (error.message === "signin") show(); }
}
async function follow() {
  const reference = document.getElementById("reference").value.trim().toUpperCase();
  const journey = await api("/v1/console/journey/" + encodeURIComponent(reference));
  fill("journey", ["When", "Topic", "Event", "Detail"], (journey.events || []).map((e) => [e.occurred_at, e.topic, e.event_type, e.detail]));
}
function show() {
  const signedIn = Boolean(token());
  document.getElementById("login").hidden = signedIn;
  document.getElementById("console").hidden = !signedIn;
}
document.getElementById("signin").addEventListener("click", async () => {
  sessionStorage.setItem("lantern-token", document.getElementById("token").value.trim());
  try { await api("/v1/console/state"); show(); refresh(); }
  catch (error) { document.getElementById("error").textContent = "Token refused / Jeton refusé"; show(); }
});
document.getElementById("follow").addEventListener("click", follow);
for (const choice of ["en", "fr"]) {
  document.getElementById("lang-" + choice).addEventListener("click", () => {
    sessionStorage.setItem("lantern-lang", choice); document.documentElement.lang = choice; refresh(); chart();
  });
}
show();
if (token()) refresh();
setInterval(() => { if (token()) refresh(); }, 2000);
