// The library page: the recorder's state, and its buttons. No inline
// script (the Content-Security-Policy forbids it); every change carries the
// CSRF token from the page's meta tag.
import "./clock_offer.js";
import { confirmDelete } from "./confirm.js";
import { BACKGROUND, csrf, unlockInPlace } from "./session.js";

const state = document.getElementById("recorder-state");
const message = document.getElementById("recorder-message");

const LIVE = ["starting", "recording", "stopping"];
const STOPPED_BY_THE_BOX = {
  "maximum duration": (limit) => `The last take stopped by itself at the box's ${clock(limit)} limit.`,
  "store nearly full": () => "The last take stopped by itself: the box's store was nearly full.",
};
let take = null;  // the take under way: its seconds when last polled, and when that was

function clock(seconds) {  // 754 -> "12:34"
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function tick() {
  if (!take) return;
  document.getElementById("rec-elapsed").textContent =
    clock(take.elapsed + (performance.now() - take.polled) / 1000);
}

// The record screen: a clear REC with the take's time, the marks made so
// far, warnings before the box's limit, and only the buttons that make sense.
function showTake(status) {
  const live = LIVE.includes(status.state);
  take = live ? { elapsed: status.elapsed, polled: performance.now() } : null;
  document.getElementById("rec").hidden = !live;
  tick();
  const start = document.getElementById("record-start");
  start.disabled = live || start.dataset.ended === "yes";
  document.getElementById("record-mark").disabled = status.state !== "recording";
  document.getElementById("record-stop").disabled = !["starting", "recording"].includes(status.state);
  const warning = document.getElementById("take-warning");
  const left = Math.max(0, status.limit - status.elapsed);
  warning.hidden = !status.time_left;
  warning.classList.toggle("ending", status.time_left === "ending");
  warning.textContent = status.time_left === "ending"
    ? `Under a minute left: the box stops this take at ${clock(status.limit)}.`
    : `${Math.ceil(left / 60)} minutes left: the box stops this take at ${clock(status.limit)}.`;
  const stopped = document.getElementById("take-stopped");
  const why = !live && STOPPED_BY_THE_BOX[status.last_stop_reason];
  stopped.hidden = !why;
  stopped.textContent = why ? why(status.limit) : "";
  const marks = document.getElementById("take-marks");
  marks.hidden = !live || status.mark_times.length === 0;
  marks.replaceChildren(...status.mark_times.map(([at, source], i) => {
    const item = document.createElement("li");
    item.textContent = `Mark ${i + 1} at ${clock(at)} (${source === "page" ? "this page" : "the box's button"})`;
    return item;
  }));
}

async function refresh() {
  // the page's own polling: it does not keep the session unlocked
  const response = await fetch("/api/recorder", { headers: BACKGROUND });
  if (response.status === 401) { await unlockInPlace(); return; }
  const status = await response.json();
  state.textContent = status.error ? `${status.state}: ${status.error}` : status.state;
  if (status.limit !== undefined) showTake(status);
  document.getElementById("free-space").textContent = `${(status.free_bytes / 1e9).toFixed(1)} GB free`;
  document.getElementById("clock").textContent = status.clock_set
    ? `clock ${status.clock}` : `clock not set (${status.clock})`;
  const missing = [];
  if (status.microphone_missing) missing.push(`No microphone: ${status.microphone_missing}. Plug in the USB microphone before recording.`);
  if (status.button_missing) missing.push("The record button and its light are not working: record from this page. (" + status.button_missing + ")");
  const warning = document.getElementById("device-warning");
  warning.textContent = missing.join(" ");
  warning.hidden = missing.length === 0;
}

// Preview for framing the shot: a frame every half second while pressed;
// the pictures live only in this page, never on the box's disk.
const preview = document.getElementById("preview");
const toggle = document.getElementById("preview-toggle");
let previewing = null;
toggle.addEventListener("click", () => {
  if (previewing) {
    clearInterval(previewing); previewing = null; preview.hidden = true;
  } else {
    const show = () => { preview.src = `/api/recorder/preview.jpg?t=${Date.now()}`; };
    show(); preview.hidden = false; previewing = setInterval(show, 500);
  }
  toggle.setAttribute("aria-pressed", String(Boolean(previewing)));
});

async function act(action) {
  const response = await fetch(`/api/recorder/${action}`, {
    method: "POST", headers: { "X-CSRF-Token": csrf() },
  });
  const body = await response.json();
  const done = { start: "Recording started.", mark: `Marked at ${clock(body.result)}.`,
                 stop: "Stopped." };
  message.textContent = response.ok ? done[action] : body.error;
  if (response.ok && action === "stop") { window.location.reload(); return; }
  await refresh();
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => act(button.dataset.action));
}
refresh();
setInterval(refresh, 2000);
setInterval(tick, 250);

// Deleting one film (with what was cut from it), asked and confirmed.
for (const button of document.querySelectorAll(".delete-recording")) {
  button.addEventListener("click", async () => {
    const reason = await confirmDelete(button.dataset.what);
    if (!reason) return;
    const response = await fetch(`/api/recordings/${button.dataset.id}`, {
      method: "DELETE", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ reason }),
    });
    if (response.ok) { window.location.reload(); return; }
    message.textContent = (await response.json()).error;
  });
}

// Times as the laptop's clock shows them: the box keeps UTC, and a time
// with no zone (it was) reads an hour out for half the year in the UK.
const localTime = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  timeZoneName: "short",
});
for (const time of document.querySelectorAll("time[datetime]")) {
  const when = new Date(time.dateTime);
  if (!Number.isNaN(when.getTime())) time.textContent = localTime.format(when);
}
