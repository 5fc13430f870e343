// This laptop's unlocked session, seen from the page: someone typing,
// pointing or playing keeps it unlocked; a minute before it locks itself
// the page says so; if it locks anyway, the page asks for the passphrase
// in a dialog of its own and stays where it is, with everything typed
// still in it (in this tab's memory: nothing is written anywhere), and
// what could not be saved meanwhile is saved after the unlock.
// a minute's warning, and a look every 10 s, for the box's 15 minutes; a
// shorter idle time (the tests' 20 s) scales both down
const WARN_SECONDS = 60;
const PING_EVERY = 30_000;    // at most one "someone is here" per half minute
const CHECK_EVERY = 10_000;   // how often the page asks how long is left
let warnAt = WARN_SECONDS;
export const BACKGROUND = { "X-Vigbox-Background": "1" };

export function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

function setCsrf(token) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) meta.content = token;
  for (const field of document.querySelectorAll('input[name="csrf_token"]')) field.value = token;
}

const UNANSWERED = "The box did not answer: is this laptop still on its Wi-Fi? Try again.";

// What the box says of this session (unlocked, its token, the idle time
// left), or null if it did not answer.
async function sessionState() {
  try {
    const response = await fetch("/api/session", { headers: BACKGROUND });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// Each unlock gives the session a new token; a tab that did not make it
// (unlocked in another tab) takes it up here. True if it had another.
export async function takeUpCsrf() {
  const state = await sessionState();
  if (!state?.csrf || state.csrf === csrf()) return false;
  setCsrf(state.csrf);
  return true;
}

// --- unsaved work: a warning before leaving the page with any ---------------
const unsaved = new Set();
export function dirty(what, isDirty) {
  if (isDirty) unsaved.add(what); else unsaved.delete(what);
}
window.addEventListener("beforeunload", (event) => {
  if (unsaved.size) { event.preventDefault(); event.returnValue = ""; }
});

// --- saves the box did not answer: said, kept, and sent again ---------------
// (a laptop off the box's Wi-Fi for a moment: the review still said "Saved",
// and the words typed meanwhile never reached the box)
export const RETRY_EVERY = 5000;
let unreachable = false;
export function answered(yes) { unreachable = !yes; }
export function retryable() { return unreachable; }
const failing = new Set();
let notice = null;
export function notSaved(what, failed) {
  if (failed) failing.add(what); else failing.delete(what);
  if (failing.size && !notice) {
    notice = Object.assign(document.createElement("p"), { className: "save-failed",
      id: "save-failed", textContent: "Not saved yet: the box did not answer (is this " +
      "laptop still on its Wi-Fi?). What you typed stays on this page, and is saved as " +
      "soon as the box answers." });
    notice.setAttribute("role", "alert");
    document.body.prepend(notice);
  } else if (!failing.size && notice) { notice.remove(); notice = null; }
}

// A field saved as it is typed (a pause of a second) and when it is left,
// and again every few seconds while the box does not answer.
// ``save(words)`` resolves true once the box has them; ``saved`` is what
// the box has now; ``typed(words)`` hears every keystroke.
export function saveAsTyped(field, what, { saved, save, typed = () => {} }) {
  let timer = null;
  const flush = async () => {
    clearTimeout(timer);
    // drawn again since (a redraw makes a new field, given the words still
    // to save): this one's save, and its retries, would race the new one's
    if (!field.isConnected) return;
    const words = field.value;
    const ok = words === saved || await save(words);
    if (ok) saved = words;
    notSaved(what, !ok && retryable());
    if (!ok && retryable()) timer = setTimeout(flush, RETRY_EVERY);
    dirty(what, field.value !== saved);
  };
  field.addEventListener("input", () => {
    typed(field.value);
    dirty(what, true);
    clearTimeout(timer);
    timer = setTimeout(flush, 1000);
  });
  field.addEventListener("change", flush);
}

// --- someone is here ---------------------------------------------------------
let lastPing = Date.now();
export async function present() {
  hideWarning();
  if (Date.now() - lastPing < PING_EVERY) return;
  lastPing = Date.now();
  const response = await fetch("/api/alive", { method: "POST", headers: { "X-CSRF-Token": csrf() } });
  if (response.status === 401) await unlockInPlace();
}
for (const name of ["keydown", "pointerdown", "input", "wheel"]) {
  document.addEventListener(name, present, { capture: true, passive: true });
}
// a film playing counts (timeupdate does not bubble: caught on the way down)
document.addEventListener("timeupdate", (event) => { if (!event.target.paused) present(); }, true);

// --- the minute's warning ----------------------------------------------------
let warning = null;
function showWarning(left) {
  if (!warning) {
    warning = document.createElement("p");
    warning.className = "idle-warning";
    warning.id = "idle-warning";
    warning.setAttribute("role", "alert");
    const text = document.createElement("span");
    const stay = Object.assign(document.createElement("button"),
      { textContent: "I am still here", id: "stay-unlocked" });
    stay.addEventListener("click", () => { lastPing = 0; present(); });
    warning.append(text, " ", stay);
    document.body.prepend(warning);
  }
  warning.firstChild.textContent = "Nobody has used this laptop for a while: to protect " +
    `the films it locks itself in ${Math.max(0, Math.round(left))} seconds.`;
}
function hideWarning() { warning?.remove(); warning = null; }

async function check() {
  const state = await sessionState();
  if (!state) return;
  if (!state.unlocked) { hideWarning(); await unlockInPlace(); return; }
  if (state.csrf) setCsrf(state.csrf);  // an unlock in another tab made a new one
  if (state.idle_left <= warnAt) showWarning(state.idle_left); else hideWarning();
}

async function watch() {
  const state = await sessionState();
  // not answered as the page opened (off the Wi-Fi for a moment): the
  // watch had died with the request, and the lock came with no warning
  if (!state) { setTimeout(watch, RETRY_EVERY); return; }
  warnAt = Math.min(WARN_SECONDS, state.idle_seconds / 3);
  setInterval(check, Math.min(CHECK_EVERY, (state.idle_seconds * 1000) / 4));
}
watch();

// --- the unlock, without leaving the page ------------------------------------
let unlocking = null;
export function unlockInPlace() {
  unlocking = unlocking || askForThePassphrase().finally(() => { unlocking = null; });
  return unlocking;
}

function askForThePassphrase() {
  const dialog = document.createElement("dialog");
  dialog.className = "unlock-dialog";
  dialog.innerHTML = `<form method="dialog">
    <p>This laptop locked itself: nobody had used it for a while. What you typed is
      still here, and is saved once you unlock.</p>
    <label for="relock-passphrase">Intervention passphrase</label>
    <input id="relock-passphrase" type="password" autocomplete="off" required>
    <button id="relock-button">Unlock</button>
    <p class="error" role="alert" id="relock-error"></p></form>`;
  document.body.append(dialog);
  dialog.addEventListener("cancel", (event) => event.preventDefault());  // Esc keeps it
  dialog.showModal();
  const field = dialog.querySelector("#relock-passphrase");
  const error = dialog.querySelector("#relock-error");
  return new Promise((resolve) => {
    const done = (token) => {
      clearInterval(elsewhere);
      setCsrf(token);
      lastPing = Date.now();
      dialog.close();
      dialog.remove();
      resolve();
    };
    // unlocked in another tab of this browser (the same session): this one
    // goes on too, rather than asking again and making the other's token stale
    const elsewhere = setInterval(async () => {
      const state = await sessionState();
      if (state?.unlocked) done(state.csrf);
    }, 2000);
    dialog.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const fresh = await sessionState();
      if (!fresh) { error.textContent = UNANSWERED; return; }
      const body = new URLSearchParams({ passphrase: field.value, csrf_token: fresh.csrf });
      const response = await fetch("/unlock", {
        method: "POST", body, headers: { "X-Vigbox-In-Place": "1" },
      }).catch(() => null);
      if (!response) { error.textContent = UNANSWERED; return; }
      const answer = await response.json().catch(() => ({ error: "the box did not answer" }));
      if (!response.ok) { error.textContent = answer.error; field.select(); return; }
      done(answer.csrf);
    });
  });
}
