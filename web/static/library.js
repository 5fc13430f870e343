// The library page: the recorder's state, and its buttons. No inline
// script (the Content-Security-Policy forbids it); every change carries the
// CSRF token from the page's meta tag.
import { confirmDelete } from "./confirm.js";
import { BACKGROUND, csrf, unlockInPlace } from "./session.js";

const state = document.getElementById("recorder-state");
const message = document.getElementById("recorder-message");

async function refresh() {
  // the page's own polling: it does not keep the session unlocked
  const response = await fetch("/api/recorder", { headers: BACKGROUND });
  if (response.status === 401) { await unlockInPlace(); return; }
  const status = await response.json();
  state.textContent = status.error ? `${status.state}: ${status.error}` : status.state;
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
  message.textContent = response.ok ? `${action}: ok` : body.error;
  if (response.ok && action === "stop") { window.location.reload(); return; }
  await refresh();
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => act(button.dataset.action));
}
// The box has no clock that runs while it is off: compare it with this
// laptop's. The box offers to set it forward when it is behind; a step
// back only when it is far ahead, and then it says so and sends back:
// true (the audit log records the step back as a correction).
async function checkClock() {
  const response = await fetch("/api/clock/check", {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ browser_ms: Date.now() }),
  });
  if (!response.ok) return;
  const { offset, offer } = await response.json();
  if (offer !== "forward" && offer !== "back") return;
  const minutes = Math.round(Math.abs(offset) / 60);
  const button = document.getElementById("set-clock");
  button.dataset.back = offer === "back" ? "yes" : "";
  document.getElementById("clock-offer-text").textContent = offer === "back"
    ? `The box's clock is ${minutes} minutes ahead of this laptop. Set it back only if ` +
      "this laptop's time is right: the step back is recorded in the audit log."
    : `The box's clock is ${minutes} minutes behind this laptop.`;
  button.textContent = offer === "back" ? "Set the box's clock back to this laptop's time"
    : "Set the box's clock to this laptop's time";
  document.getElementById("clock-offer").hidden = false;
}

document.getElementById("set-clock").addEventListener("click", async (event) => {
  const back = event.currentTarget.dataset.back === "yes";
  const response = await fetch("/api/clock/set", {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(back ? { browser_ms: Date.now(), back: true }
                              : { browser_ms: Date.now() }),
  });
  const body = await response.json();
  message.textContent = response.ok
    ? `clock set (${body.correction} s${body.simulated ? ", simulation: noted only" : ""})`
    : body.error;
  if (response.ok) window.location.reload();
});

refresh();
checkClock();
setInterval(refresh, 2000);

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
