// The timeline's view (web/static/timeview.js) under node's own test
// runner: zoom, pan, the ruler, the filmstrip's pictures, the sound's
// columns, and finding marks by principle and goal. Run by
// tests/test_timeline_view.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  FEWEST_FRAMES, clamp, follow, loudness, nextMark, pan, pictures, shows, span, ticks, toTime,
  toX, whole, zoom,
} from "../../web/static/timeview.js";

const FPS = 30;
const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} is not ${b}`);

test("zooming keeps the time under the pointer where it was", () => {
  const before = whole(1800);
  const at = 1234.5;
  const x = toX(before, at, 960);
  const after = zoom(before, 8, at, 1800, FPS);
  close(span(after), 1800 / 8);
  close(toX(after, at, 960), x);
  close(toTime(after, x, 960), at);
});

test("zooming stops at a few frames and at the whole film", () => {
  let view = whole(1800);
  for (let i = 0; i < 40; i += 1) view = zoom(view, 2, 900, 1800, FPS);
  close(span(view), FEWEST_FRAMES / FPS);
  assert.ok(view.from <= 900 && view.to >= 900);
  for (let i = 0; i < 40; i += 1) view = zoom(view, 0.5, 900, 1800, FPS);
  assert.deepEqual(view, { from: 0, to: 1800 });
});

test("a view never leaves the film", () => {
  const view = zoom(whole(60), 6, 0, 60, FPS);
  assert.deepEqual(view, { from: 0, to: 10 });  // zoomed at the start: it stays on screen
  assert.deepEqual(pan(view, -30, 60, FPS), { from: 0, to: 10 });
  assert.deepEqual(pan(view, 500, 60, FPS), { from: 50, to: 60 });
  assert.deepEqual(clamp({ from: -5, to: 90 }, 60, FPS), { from: 0, to: 60 });
});

test("the view turns the page when the playhead leaves it", () => {
  const view = { from: 10, to: 20 };
  assert.equal(follow(view, 15, 60, FPS), view);
  const turned = follow(view, 20.5, 60, FPS);
  assert.ok(turned.from < 20.5 && turned.to > 20.5 && span(turned) === 10);
});

test("the ruler goes from minutes to frames as the view narrows", () => {
  const far = ticks(whole(1800), 960, FPS);
  assert.equal(far.frames, false);
  assert.ok(far.step >= 120, far.step);
  assert.ok(far.times.length >= 5 && far.times.length <= 11, far.times.length);
  const near = ticks({ from: 100, to: 100.5 }, 960, FPS);
  assert.equal(near.frames, true);
  close(near.step, 2 / FPS);  // 2 frames: 128 px at this zoom
  assert.ok(near.times.every((t) => t >= 100 && t <= 100.5));
});

test("the filmstrip shows more pictures as the view narrows, up to every one", () => {
  const times = Array.from({ length: 1800 }, (_, k) => k);
  const far = new Set(pictures(whole(1800), 960, times).map((p) => p.index));
  assert.equal(far.size, 12);
  const near = pictures({ from: 600, to: 612 }, 960, times).map((p) => p.index);
  assert.deepEqual(near, [600, 601, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611]);
  const frames = pictures({ from: 600.2, to: 600.6 }, 960, times).map((p) => p.index);
  assert.ok(frames.every((i) => i === 600));  // the keyframe before: one a second
});

test("the sound's columns are the loudest peak under each pixel", () => {
  const peaks = new Uint8Array(100);  // 10 s at 10 a second
  peaks[55] = 255;
  const columns = loudness(whole(10), 10, peaks, 10);
  assert.deepEqual([...columns].map((v) => Math.round(v * 255)), [0, 0, 0, 0, 0, 255, 0, 0, 0, 0]);
  const zoomed = loudness({ from: 5.5, to: 5.6 }, 4, peaks, 10);
  assert.ok([...zoomed].every((v) => v === 1));  // a pixel narrower than a peak shows it
});

test("marks are found by principle, by goal, and in order from the playhead", () => {
  const marks = [
    { start: 30, tags: ["1.3"], goals: [1] },
    { start: 10, tags: ["2"], goals: [] },
    { start: 50, tags: ["1", "3.1"], goals: [2] },
    { start: 70, tags: [], goals: [] },
  ];
  assert.equal(shows(marks[0], { principle: "1" }), true);
  assert.equal(shows(marks[1], { principle: "1" }), false);
  assert.equal(shows(marks[2], { principle: "3", goal: "2" }), true);
  assert.equal(shows(marks[2], { goal: "1" }), false);
  assert.equal(nextMark(marks, 0, 1), 10);
  assert.equal(nextMark(marks, 10, 1), 30);  // the one under the playhead is not next
  assert.equal(nextMark(marks, 0, 1, { principle: "1" }), 30);
  assert.equal(nextMark(marks, 30, 1, { principle: "1" }), 50);
  assert.equal(nextMark(marks, 50, 1, { principle: "1" }), null);
  assert.equal(nextMark(marks, 60, -1, { goal: "1" }), 30);
  assert.equal(nextMark(marks, 30, -1, { goal: "1" }), null);
});
