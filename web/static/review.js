// The shared-review presenter: the cycle's clips in review order, with
// loop, slow motion, freeze with the principle's caption, prompts, and
// the practitioner's words typed by the guider. Keyboard and touch alike.
import { api } from "./api.js";
import { askAgain } from "./ask_again.js";
import { dirty, notSaved, present, RETRY_EVERY, retryable } from "./session.js";

const root = document.getElementById("presenter");
const cycle = Number(root.dataset.cycle);
const video = document.getElementById("review-video");
const caption = document.getElementById("caption");
const prompt = document.getElementById("prompt");
const message = (text) => { document.getElementById("review-message").textContent = text; };
let stopped = null;  // why the clip stopped, while it is said
askAgain(video, { say: (words) => { stopped = words; message(words); } });
const back = () => {  // the clip back (ready, or playing): what was said of its stop is over
  if (stopped && document.getElementById("review-message").textContent === stopped) message("");
  stopped = null;
};
video.addEventListener("loadeddata", back);
video.addEventListener("playing", back);
const prompts = [...document.getElementById("prompts").content.querySelectorAll("span")]
  .map((span) => span.textContent);
// the review's time is sent as this opening's total, named by a visit of
// its own: a save sent again after its answer was lost adds nothing twice
const opened = Date.now();
const visit = Array.from(crypto.getRandomValues(new Uint8Array(16)),
  (b) => b.toString(16).padStart(2, "0")).join("");
const shown = new Set();
let clips = [];
let goalWords = {};  // goal number: its words (sealed on the box, shown unlocked)
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
  // what the clip is for: its principle, and the goals it was linked to
  const about = [];
  if (clip.caption) about.push(["principle", clip.caption]);
  for (const n of clip.goals || []) about.push(["goal", `Goal ${n}: ${goalWords[n] || ""}`]);
  document.getElementById("clip-about").replaceChildren(...about.map(([kind, text]) => {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    return item;
  }));
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

// The practitioner's words are saved as they are typed (after a pause of
// two seconds), by Save, and before the page is left; leaving with words
// not yet saved asks first.
const reflections = document.getElementById("reflections");
let savedWords = null;
let saveTimer = null;

async function save() {
  clearTimeout(saveTimer);
  // (the box takes at most a day: a page left open longer still saves its words)
  const seconds = Math.min(86_399, Math.max(0, Math.round((Date.now() - opened) / 1000)));
  const words = reflections.value;
  const saved = await api("POST", `/api/review/${cycle}`, {
    clips: [...shown], visit, seconds, reflections: words,
  }, message);
  notSaved("reflections", !saved && retryable());
  if (!saved) {
    if (retryable()) saveTimer = setTimeout(save, RETRY_EVERY);
    return;
  }
  savedWords = words;
  dirty("reflections", reflections.value !== savedWords);
  message("Saved, kept locked on the box.");
}

reflections.addEventListener("input", () => {
  dirty("reflections", true);
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, 2000);
});
// left (a tap on a link blurs it first): the last sentence, typed within
// the two seconds, had been lost with the page
reflections.addEventListener("change", save);
// the review is on the screen, frozen or playing, and people are talking
// over it: that is someone using the laptop, whether or not a key is pressed
setInterval(() => { if (document.visibilityState === "visible") present(); }, 60_000);

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
  goalWords = data.goals || {};
  reflections.value = savedWords = data.reflections;
  if (clips.length) load(0); else message("No clips in this cycle yet: cut some in the player.");
}
