// Filming the shared review itself, for the guider's supervision (its own
// consent: the button is on the page only when it was given). The take is
// the recorder's, as any film: REC with its time while it runs, Stop to
// end it; it is then in the library, marked and cut like any film.
import { api } from "./api.js";
import { BACKGROUND } from "./session.js";

const start = document.getElementById("film-review");
const stop = document.getElementById("stop-filming");
const rec = document.getElementById("review-rec");
const message = document.getElementById("filming-message");
const LIVE = ["starting", "recording", "stopping"];
const say = (text) => { message.textContent = text; };
const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

async function refresh() {
  const response = await fetch("/api/recorder", { headers: BACKGROUND });
  if (!response.ok) return;
  const status = await response.json();
  const live = LIVE.includes(status.state);
  rec.hidden = !live;
  rec.textContent = live ? `REC ${clock(status.elapsed || 0)}` : "REC";
  start.disabled = live;
  stop.disabled = !["starting", "recording"].includes(status.state);
}

start.addEventListener("click", async () => {
  if (await api("POST", "/api/recorder/start", { subject: "review" }, say)) {
    say("Filming the review: it will be in the library when you stop.");
  }
  refresh();
});
stop.addEventListener("click", async () => {
  if (await api("POST", "/api/recorder/stop", undefined, say)) {
    say("The film of this review is in the library.");
  }
  refresh();
});
refresh();
setInterval(refresh, 1000);
