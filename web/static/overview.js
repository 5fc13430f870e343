// The filmstrip (a keyframe picture a second, thinned to fit) and the
// waveform (the sound's peaks, computed and sealed on the box, not decoded
// here). Clicking either seeks there. Both wait for the film's first frame:
// over the hotspot their requests would otherwise share the air with the
// bytes the guider is waiting to see.
import { player } from "./player.js";

const recording = document.querySelector(".clips-panel").dataset.recording;
const strip = document.getElementById("filmstrip");
const canvas = document.getElementById("waveform");
const video = document.getElementById("video");

async function json(path) {
  const response = await fetch(path);
  return response.ok ? response.json() : null;
}

function seekFrom(element, event, length) {
  const box = element.getBoundingClientRect();
  player.seek(((event.clientX - box.left) / box.width) * length);
}

async function drawFilmstrip() {
  const film = await json(`/api/recordings/${recording}/filmstrip`);
  if (!film || !film.count) return;
  const shown = Math.min(film.count, Math.max(1, Math.floor(strip.clientWidth / 80)));
  for (let k = 0; k < shown; k += 1) {
    const n = Math.floor((k * film.count) / shown);
    const img = document.createElement("img");
    img.src = `/api/recordings/${recording}/filmstrip/${n}.jpg`;
    img.alt = `picture at ${player.clock(film.times[n] || 0)}`;
    strip.appendChild(img);
  }
  const length = film.times[film.times.length - 1] + 1;
  strip.addEventListener("click", (event) => seekFrom(strip, event, length));
}

async function drawWaveform() {
  const peaks = await json(`/api/recordings/${recording}/peaks`);
  if (!peaks || !peaks.length) return;
  canvas.width = canvas.clientWidth;
  const context = canvas.getContext("2d");
  const middle = canvas.height / 2;
  context.fillStyle = "#2f6f73";
  for (let x = 0; x < canvas.width; x += 1) {
    const from = Math.floor((x * peaks.length) / canvas.width);
    const to = Math.max(from + 1, Math.floor(((x + 1) * peaks.length) / canvas.width));
    const peak = Math.max(...peaks.slice(from, to)) / 255;
    context.fillRect(x, middle - peak * middle, 1, Math.max(1, 2 * peak * middle));
  }
  canvas.addEventListener("click", (event) => seekFrom(canvas, event, peaks.length / 10));
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

afterFirstFrame(() => { drawFilmstrip(); drawWaveform(); });
