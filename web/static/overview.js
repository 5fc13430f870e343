// The filmstrip (a keyframe picture a second) and the sound's peaks
// (computed and sealed on the box, not decoded here), handed to the
// timeline, which shows as many of them as its zoom has room for. Both
// wait for the film's first frame: over the hotspot their requests would
// otherwise share the air with the bytes the guider is waiting to see.
import { player } from "./player.js";

const PEAKS_PER_SECOND = 10;  // appliance/film/overview.py's
const recording = document.querySelector(".clips-panel").dataset.recording;
const video = document.getElementById("video");
const base = `/api/recordings/${recording}/filmstrip`;

async function json(path) {
  const response = await fetch(path);
  return response.ok ? response.json() : null;
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
  return `${base}/${index}.jpg`;
}

async function loadFilmstrip() {
  const film = await json(base);
  times = film && film.count ? film.times.slice(0, film.count) : null;
  if (times) player.timeline.setFilmstrip({ times, url: (index) => `${base}/${index}.jpg` });
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
