// The filmstrip (a keyframe picture a second) and the sound's peaks
// (computed and sealed on the box, not decoded here), handed to the
// timeline, which shows as many of them as its zoom has room for. Both
// wait for the film's first frame: over the hotspot their requests would
// otherwise share the air with the bytes the guider is waiting to see.
//
// The pictures wanted at one moment come in one request (a part each, read
// with Response.formData()) and stay in this page's memory as blob: URLs
// while it is open: a request a picture cost a round trip each, and
// nothing of them is written to the laptop. The timeline's are asked for
// first; the marks' thumbnails in sight after them.
import { player } from "./player.js";

const PEAKS_PER_SECOND = 10;  // appliance/film/overview.py's
const MAX_PICTURES = 64;      // a request's most: web/player.py's
const recording = document.querySelector(".clips-panel").dataset.recording;
const video = document.getElementById("video");
const base = `/api/recordings/${recording}/filmstrip`;

async function json(path) {
  const response = await fetch(path);
  return response.ok ? response.json() : null;
}

const urls = new Map();     // picture number -> blob: URL
const waiting = new Map();  // picture number -> [resolve, ...]
const wanted = { now: new Set(), later: new Set() };
const flying = { now: false, later: false };
let scheduled = false;

// picture ``number``'s address, asked for with the others wanted in the
// same moment; resolves to null if the box could not give it
function picture(number, when) {
  if (urls.has(number)) return Promise.resolve(urls.get(number));
  return new Promise((resolve) => {
    if (!waiting.has(number)) {
      waiting.set(number, []);
      wanted[when].add(number);
    } else if (when === "now" && wanted.later.delete(number)) {
      wanted.now.add(number);
    }
    waiting.get(number).push(resolve);
    schedule();
  });
}

// a microtask: after the timeline's draw has asked for all it shows, and
// before any other of the page's work (the marks' list) goes first
function schedule() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    send("now");
    // the marks' thumbnails when the page has nothing better to do: their
    // arrival had held up the drawing of the timeline's own pictures
    if (!flying.now && !wanted.now.size && wanted.later.size) {
      requestIdleCallback(() => send("later"), { timeout: 1000 });
    }
  });
}

async function send(when) {
  if (flying[when] || !wanted[when].size) return;
  flying[when] = true;
  const numbers = [...wanted[when]].slice(0, MAX_PICTURES);
  numbers.forEach((n) => wanted[when].delete(n));
  let parts = null;
  try {
    const response = await fetch(`${base}/pictures?numbers=${numbers.join(",")}`);
    if (response.ok) parts = await response.formData();
  } catch {
    parts = null;  // the page is going, or the box is gone: asked again later
  }
  for (const number of numbers) {
    const file = parts && parts.get(String(number));
    const url = file ? URL.createObjectURL(file) : null;
    if (url) urls.set(number, url);
    for (const resolve of waiting.get(number) || []) resolve(url);
    waiting.delete(number);
  }
  flying[when] = false;
  // drawn again only if they came: a box that refuses is not asked in a loop
  if (when === "now" && parts) redraw();
  schedule();
}

// the timeline draws again once the pictures it asked for have come
let film = null;
function redraw() { if (film) player.timeline.setFilmstrip(film); }
function shown(number) {
  if (urls.has(number)) return urls.get(number);
  picture(number, "now");
  return null;
}

// the filmstrip's picture at or before time t (a mark's thumbnail), once
// the filmstrip has come: resolves to its address, or null
let times = null;
let arrived;
const ready = new Promise((resolve) => { arrived = resolve; });
export async function pictureAt(t) {
  await ready;
  if (!times || !times.length) return null;
  let index = 0;
  while (index + 1 < times.length && times[index + 1] <= t) index += 1;
  return picture(index, "later");
}

// the times of a filmstrip already made come with the page (after the
// video in it): its pictures are asked for with the first frame, not a
// round trip after it
const made = JSON.parse(document.getElementById("filmstrip").dataset.times || "null");

async function loadFilmstrip() {
  const found = made ? { times: made, count: made.length } : await json(base);
  times = found && found.count ? found.times.slice(0, found.count) : null;
  if (times) {
    film = { times, url: shown };
    player.timeline.setFilmstrip(film);
  }
  arrived();
}

async function loadSound() {
  const peaks = await json(`/api/recordings/${recording}/peaks`);
  if (peaks && peaks.length) player.timeline.setSound({ peaks, rate: PEAKS_PER_SECOND });
}

function afterFirstFrame(draw) {
  // HAVE_CURRENT_DATA: a frame is on screen; a film that cannot play
  // (damaged) still gets its overview
  if (video.readyState >= 2) { draw(); return; }
  let done = false;
  const go = () => { if (!done) { done = true; draw(); } };
  video.addEventListener("loadeddata", go, { once: true });
  video.addEventListener("error", go, { once: true });
}

afterFirstFrame(() => { loadFilmstrip(); loadSound(); });
