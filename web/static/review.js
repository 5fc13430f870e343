// The shared-review presenter: the cycle's clips in review order, with
// loop, slow motion, freeze with the principle's caption, prompts, and
// the practitioner's words typed by the guider. Keyboard and touch alike.
import { api } from "./api.js";

const root = document.getElementById("presenter");
const cycle = Number(root.dataset.cycle);
const video = document.getElementById("review-video");
const caption = document.getElementById("caption");
const prompt = document.getElementById("prompt");
const message = (text) => { document.getElementById("review-message").textContent = text; };
const prompts = [...document.getElementById("prompts").content.querySelectorAll("span")]
  .map((span) => span.textContent);
const opened = Date.now();
const shown = new Set();
let clips = [];
let at = 0;
let promptAt = 0;

function press(button, on) { button.setAttribute("aria-pressed", String(on)); }

function load(n) {
  if (!clips.length) return;
  at = (n + clips.length) % clips.length;
  const clip = clips[at];
  video.src = `/media/${clip.id}`;
  video.playbackRate = currentSpeed();
  caption.hidden = true;
  caption.textContent = clip.caption || clip.name || "";
  document.getElementById("clip-number").textContent = `${at + 1} / ${clips.length}`;
  document.getElementById("clip-name").textContent = clip.name || "";
  shown.add(clip.id);
}

function currentSpeed() {
  const on = root.querySelector('[data-speed][aria-pressed="true"]');
  return on ? Number(on.dataset.speed) : 1;
}

function setSpeed(speed) {
  for (const b of root.querySelectorAll("[data-speed]")) press(b, Number(b.dataset.speed) === speed);
  video.playbackRate = speed;
  video.defaultPlaybackRate = speed;
}

function playPause() {
  caption.hidden = true;
  if (video.paused) video.play(); else video.pause();
}

function freeze() {
  video.pause();
  caption.hidden = !caption.textContent;
}

function toggleLoop() {
  video.loop = !video.loop;
  press(document.getElementById("loop"), video.loop);
}

function nextPrompt() {
  promptAt = (promptAt + 1) % prompts.length;
  prompt.textContent = prompts[promptAt];
}

async function save() {
  const saved = await api("POST", `/api/review/${cycle}`, {
    clips: [...shown], seconds: Math.round((Date.now() - opened) / 1000),
    reflections: document.getElementById("reflections").value,
  }, message);
  if (saved) message("Saved, sealed.");
}

video.addEventListener("play", () => { document.getElementById("play").textContent = "Pause"; });
video.addEventListener("pause", () => { document.getElementById("play").textContent = "Play"; });
document.getElementById("prev").addEventListener("click", () => load(at - 1));
document.getElementById("next").addEventListener("click", () => load(at + 1));
document.getElementById("play").addEventListener("click", playPause);
document.getElementById("loop").addEventListener("click", toggleLoop);
document.getElementById("freeze").addEventListener("click", freeze);
document.getElementById("next-prompt").addEventListener("click", nextPrompt);
document.getElementById("save-review").addEventListener("click", save);
document.getElementById("fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen(); else root.requestFullscreen();
});
for (const b of root.querySelectorAll("[data-speed]")) {
  b.addEventListener("click", () => setSpeed(Number(b.dataset.speed)));
}

const KEYS = {
  " ": playPause, l: toggleLoop, f: freeze, q: nextPrompt,
  ArrowLeft: () => load(at - 1), ArrowRight: () => load(at + 1),
  1: () => setSpeed(1), 2: () => setSpeed(0.5), 3: () => setSpeed(0.25),
};
document.addEventListener("keydown", (event) => {
  if (event.target.closest("textarea, input")) return;
  const action = KEYS[event.key];
  if (action) { event.preventDefault(); action(); }
});

const data = await api("GET", `/api/review/${cycle}`, undefined, message);
if (data) {
  clips = data.clips;
  document.getElementById("reflections").value = data.reflections;
  if (clips.length) load(0); else message("No clips in this cycle yet: cut some in the player.");
}
