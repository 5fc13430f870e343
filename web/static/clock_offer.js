// The box has no clock that runs while it is off: compare it with this
// laptop's. The box offers to set it forward when it is behind; a step
// back only when it is far ahead, and then it says so and sends back:
// true (the audit log records the step back as a correction). On the
// library, and on the wipe page a box past its retention limit shows: a
// clock pushed years ahead had left the box offering only the wipe, with
// no way to set it right from the page.
import { csrf } from "./session.js";

const offer = document.getElementById("clock-offer");
const text = document.getElementById("clock-offer-text");
const button = document.getElementById("set-clock");

async function checkClock() {
  const response = await fetch("/api/clock/check", {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ browser_ms: Date.now() }),
  });
  if (!response.ok) return;
  const { offset, offer: which } = await response.json();
  if (which !== "forward" && which !== "back") return;
  const minutes = Math.round(Math.abs(offset) / 60);
  button.dataset.back = which === "back" ? "yes" : "";
  text.textContent = which === "back"
    ? `The box's clock is ${minutes} minutes ahead of this laptop. Set it back only if ` +
      "this laptop's time is right: the step back is recorded in the audit log."
    : `The box's clock is ${minutes} minutes behind this laptop.`;
  button.textContent = which === "back" ? "Set the box's clock back to this laptop's time"
    : "Set the box's clock to this laptop's time";
  offer.hidden = false;
}

button?.addEventListener("click", async () => {
  const back = button.dataset.back === "yes";
  const response = await fetch("/api/clock/set", {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(back ? { browser_ms: Date.now(), back: true }
                              : { browser_ms: Date.now() }),
  });
  const body = await response.json();
  text.textContent = response.ok
    ? `clock set (${body.correction} s${body.simulated ? ", simulation: noted only" : ""})`
    : body.error;
  // the page asked for again, not reloaded: after a refused form it was
  // the answer to a POST, and a reload sent the form again (or nothing)
  if (response.ok) window.location.replace(window.location.href.split("#")[0]);
});

if (offer) checkClock();
