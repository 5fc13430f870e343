// The timeline's view of a film: which stretch of it [from, to] is shown,
// zoomed from the whole film down to a few frames, and what falls in it
// (ruler ticks, filmstrip pictures, sound peaks, the marks a filter lets
// through). Pure functions, no page: tests/js/timeview.test.mjs runs
// them under node.
//
//   const view = zoom(whole(600), 10, 300, 600, 30);  // 60 s around 5:00
//   toTime(view, 480, 960);                            // 300: the middle

// The deepest zoom: this many frames across the timeline, each wider than
// a finger on a tablet (a frame steps the playhead a visible distance).
export const FEWEST_FRAMES = 12;
// Ruler labels need about this many pixels each.
const LABEL_PIXELS = 90;
// Steps between ruler ticks, in frames (f) then seconds.
const FRAME_STEPS = [1, 2, 5, 10, 15];
const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900];

export const span = (view) => view.to - view.from;
export const whole = (duration) => ({ from: 0, to: Math.max(duration, 1e-3) });
export const toX = (view, t, width) => ((t - view.from) / span(view)) * width;
export const toTime = (view, x, width) => view.from + (x / width) * span(view);

// A view inside the film, no shorter than FEWEST_FRAMES and no longer than
// the film.
export function clamp(view, duration, fps) {
  const length = Math.min(Math.max(span(view), FEWEST_FRAMES / fps), duration);
  const from = Math.min(Math.max(view.from, 0), Math.max(0, duration - length));
  return { from, to: from + length };
}

// Closer by ``factor`` (less than 1: further), keeping time ``at`` where
// it is on screen: under the mouse, or between a pinch's two fingers.
export function zoom(view, factor, at, duration, fps) {
  const length = span(view) / factor;
  const from = at - ((at - view.from) / span(view)) * length;
  return clamp({ from, to: from + length }, duration, fps);
}

export const pan = (view, seconds, duration, fps) =>
  clamp({ from: view.from + seconds, to: view.to + seconds }, duration, fps);

// While the film plays the view turns the page when the playhead leaves it.
export function follow(view, t, duration, fps) {
  if (t >= view.from && t <= view.to) return view;
  return clamp({ from: t - span(view) * 0.1, to: t + span(view) * 0.9 }, duration, fps);
}

// The ruler: the finest step that leaves room for its labels, and the
// times of its ticks in the view.
export function ticks(view, width, fps) {
  const steps = [...FRAME_STEPS.map((f) => f / fps), ...SECOND_STEPS];
  const step = steps.find((s) => (s / span(view)) * width >= LABEL_PIXELS) || steps.at(-1);
  const times = [];
  for (let k = Math.ceil(view.from / step - 1e-9); k * step <= view.to + 1e-9; k += 1) {
    times.push(k * step);
  }
  return { step, frames: step < 1, times };
}

// The filmstrip in the view: a slot per ``slot`` pixels, each showing the
// last picture taken at or before the slot's middle (keyframes, one a
// second), so that zooming in shows more of them, up to every one.
export function pictures(view, width, times, slot = 80) {
  const count = Math.max(1, Math.floor(width / slot));
  const shown = [];
  for (let k = 0; k < count; k += 1) {
    const t = toTime(view, (k + 0.5) * (width / count), width);
    shown.push({ x: (k * width) / count, width: width / count, index: lastAtOrBefore(times, t) });
  }
  return shown;
}

function lastAtOrBefore(times, t) {
  let low = 0;
  let high = times.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (times[middle] <= t) low = middle; else high = middle - 1;
  }
  return low;
}

// The sound in the view: the loudest peak under each pixel (0..1), from
// peaks at ``rate`` a second.
export function loudness(view, width, peaks, rate) {
  const columns = new Float32Array(width);
  for (let x = 0; x < width; x += 1) {
    const from = Math.floor(toTime(view, x, width) * rate);
    const to = Math.max(from + 1, Math.floor(toTime(view, x + 1, width) * rate));
    let loudest = 0;
    for (let i = Math.max(0, from); i < Math.min(to, peaks.length); i += 1) {
      loudest = Math.max(loudest, peaks[i]);
    }
    columns[x] = loudest / 255;
  }
  return columns;
}

// Marks by principle ("1.3" belongs to principle "1") and by goal: what a
// guider filters the timeline and the list by.
export const principleOf = (tag) => String(tag).split(".")[0];

export function shows(mark, filter) {
  if (filter.principle && !(mark.tags || []).some((tag) => principleOf(tag) === filter.principle)) {
    return false;
  }
  return !filter.goal || (mark.goals || []).includes(Number(filter.goal));
}

// The start of the next (direction 1) or previous (-1) mark the filter
// shows, from time t; null when there is none. A mark under the playhead
// is not the next one (50 ms either side: a frame and a half at 30 fps).
export function nextMark(marks, t, direction, filter = {}) {
  const starts = marks.filter((m) => shows(m, filter)).map((m) => m.start).sort((a, b) => a - b);
  if (direction > 0) return starts.find((s) => s > t + 0.05) ?? null;
  return starts.reverse().find((s) => s < t - 0.05) ?? null;
}
