// The player: keyboard like the editors people know. J/L shuttle backwards
// and forwards (press again to go faster), K or Space stops or plays,
// , and . step one frame, arrows jump 1 s (5 s with Shift), I and O set
// the in and out points of a range; + and - zoom the timeline, 0 shows the
// whole film. Every key has a button too, large enough for a finger.
import { askAgain } from "./ask_again.js";
import { createTimeline } from "./timeline.js";

const root = document.getElementById("player");
const video = document.getElementById("video");
const videoMessage = document.getElementById("video-message");
askAgain(video, { say: (words) => { videoMessage.textContent = words; videoMessage.hidden = false; } });
// the film back (ready, or playing): what was said of its stop is over
for (const back of ["loadeddata", "playing"]) video.addEventListener(back, () => { videoMessage.hidden = true; });
const fps = Number(root.dataset.fps) || 30;
const lag = Number(root.dataset.lag) || 0;  // see frame_lag in web/player.py
const marks = JSON.parse(root.dataset.marks || "[]");
const out = {
  time: document.getElementById("time"), frame: document.getElementById("frame"),
  inout: document.getElementById("inout"), play: document.getElementById("play"),
  speed: document.getElementById("speed"), timeline: document.getElementById("timeline"),
};
const SHUTTLE = [1, 2, 4, 8];
let shuttle = 0;          // index into SHUTTLE; sign gives the direction
let reverseTimer = null;  // browsers cannot play backwards: J steps back
// the in and out points outlive a reload of the page (they are times, no
// footage or words): a reload had forgotten them
const RANGE_KEY = `range ${location.pathname}`;
let range = JSON.parse(sessionStorage.getItem(RANGE_KEY) || "null") || { in: null, out: null };
function setRange(end) {
  range[end] = video.currentTime;
  sessionStorage.setItem(RANGE_KEY, JSON.stringify(range));
  timeline.setRange({ ...range });
  show();
}

const duration = () => (Number.isFinite(video.duration) ? video.duration : Number(root.dataset.duration));
const timeline = createTimeline(out.timeline, {
  duration, fps, seek: (t) => seek(t), now: () => video.currentTime,
  playing: () => !video.paused || reverseTimer !== null,
});
// the frame on screen at time t, and the middle of frame n: seeking to a
// frame's middle lands on it whatever the rounding of the decoder's clock
const frameAt = (t) => Math.min(Math.max(0, Math.floor((t - lag) * fps + 1e-3)),
  Math.max(0, Math.round((duration() - lag) * fps) - 1));
const middleOf = (n) => (n + 0.5) / fps + lag;
const clock = (t) => `${Math.floor(t / 60)}:${(t % 60).toFixed(2).padStart(5, "0")}`;

function show() {
  const t = video.currentTime;
  out.time.textContent = clock(t);
  out.frame.textContent = `frame ${frameAt(t)}`;
  out.play.textContent = video.paused && !reverseTimer ? "Play" : "Pause";
  timeline.place();
  // what a screen reader says of the timeline (a slider: where in the film)
  out.timeline.setAttribute("aria-valuemax", String(Math.round(duration() || 0)));
  out.timeline.setAttribute("aria-valuenow", String(Math.round(t)));
  out.timeline.setAttribute("aria-valuetext", `${clock(t)} of ${clock(duration() || 0)}`);
  const fmt = (v) => (v === null ? "–" : clock(v));
  out.inout.textContent = `in ${fmt(range.in)} · out ${fmt(range.out)}`;
}

function stopReverse() { clearInterval(reverseTimer); reverseTimer = null; }
function seek(t) {
  video.currentTime = Math.min(Math.max(0, t), duration());
  timeline.reveal(video.currentTime);
  show();
}
function step(frames) { stopReverse(); video.pause(); seek(middleOf(frameAt(video.currentTime) + frames)); }
// the default too: a film asked for again (ask_again.js) keeps it
function setSpeed(rate) {
  video.playbackRate = video.defaultPlaybackRate = rate;
  out.speed.value = String(rate);
}

function playPause() {
  // shuttling backwards (J) is a paused video stepped back: K stops it, as
  // it stops a forward shuttle, rather than starting to play forwards
  const reversing = reverseTimer !== null;
  stopReverse(); shuttle = 0;
  if (reversing) { video.pause(); show(); return; }
  if (video.paused) { setSpeed(Number(out.speed.value) || 1); video.play(); } else { video.pause(); }
}

function shuttleBy(direction) {
  shuttle = Math.sign(shuttle) === direction ? shuttle + direction : direction;
  shuttle = Math.max(-SHUTTLE.length, Math.min(SHUTTLE.length, shuttle));
  const rate = SHUTTLE[Math.abs(shuttle) - 1];
  stopReverse();
  if (shuttle > 0) { video.playbackRate = rate; video.play(); return; }
  video.pause();
  reverseTimer = setInterval(() => seek(video.currentTime - (rate * 0.1)), 100);
}

const KEYS = {
  " ": playPause, k: playPause, K: playPause,
  j: () => shuttleBy(-1), J: () => shuttleBy(-1), l: () => shuttleBy(1), L: () => shuttleBy(1),
  ",": () => step(-1), ".": () => step(1),
  i: () => setRange("in"), I: () => setRange("in"),
  o: () => setRange("out"), O: () => setRange("out"),
  "+": () => timeline.zoomBy(2), "=": () => timeline.zoomBy(2), "-": () => timeline.zoomBy(0.5),
  0: () => timeline.whole(),
};
// the same, by touch: a tablet has no keyboard
const BUTTONS = {
  "step-back": () => step(-1), "step-forward": () => step(1),
  "set-in": KEYS.i, "set-out": KEYS.o,
  "zoom-in": KEYS["+"], "zoom-out": KEYS["-"], "zoom-whole": KEYS[0],
};

// for the marks panel (marks.js): the video, seeking, the I/O range, and
// a way to add keys
export const player = {
  video, seek, clock, fps, timeline,
  range: () => ({ ...range }),
  addKey: (key, action) => { KEYS[key] = action; },
};

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea")) return;
  let action = KEYS[event.key];
  if (event.key === "ArrowLeft") action = () => seek(video.currentTime - (event.shiftKey ? 5 : 1));
  if (event.key === "ArrowRight") action = () => seek(video.currentTime + (event.shiftKey ? 5 : 1));
  if (!action) return;
  event.preventDefault();
  action();
});

out.play.addEventListener("click", playPause);
out.speed.addEventListener("change", () => setSpeed(Number(out.speed.value)));
for (const [id, action] of Object.entries(BUTTONS)) {
  document.getElementById(id).addEventListener("click", action);
}
// marks (moments and ranges) and clips as ticks and bands on the timeline
export function drawMarks(list, kind = "mark") { timeline.setItems(kind, list); }
drawMarks(marks.map((at) => ({ start: at, end: null, tags: [] })));
timeline.setRange({ ...range });
// the film's own length, once known, is the timeline's whole; a film
// asked for again (see ask_again.js) keeps the guider's zoom
let shownWhole = false;
const wholeOnce = () => { if (!shownWhole) { shownWhole = true; timeline.whole(); } };
video.addEventListener("loadedmetadata", wholeOnce);
if (video.readyState >= 1) wholeOnce();
for (const name of ["timeupdate", "seeked", "play", "pause", "loadedmetadata"]) {
  video.addEventListener(name, show);
}
show();
