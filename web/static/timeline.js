// The timeline: a ruler, the filmstrip, the marks (coloured by principle),
// the clips and the sound, one above the other, zoomable from the whole
// film down to a few frames. Mouse: click to go there, the wheel zooms
// where the pointer is (sideways or with Shift it moves along), drag to
// move along. Touch: tap, drag, pinch. The arithmetic is timeview.js's.
//
//   const timeline = createTimeline(element,
//     { duration: () => 600, fps: 30, seek, now: () => video.currentTime, playing: () => true });
//   timeline.zoomBy(10);  // a minute around the playhead
import * as tv from "./timeview.js";

const DRAG_PIXELS = 8;  // a tap that moved less is still a tap

export function createTimeline(root, { duration, fps, seek, now, playing }) {
  const part = (id) => root.querySelector(`#${id}`);
  const ruler = part("ruler");
  const strip = part("filmstrip");
  const tracks = { mark: part("marks-track"), clip: part("clips-track"), talk: part("talk-track") };
  const canvas = part("waveform");
  const playhead = part("playhead");
  const band = part("range");
  let view = tv.whole(duration());
  const items = { mark: [], clip: [] };
  let filter = {};
  let film = null;   // { times, url(index): its address, or null until it has come }
  let sound = null;  // { peaks, rate }
  let talk = null;   // the interaction map: { segments: [[start, end, who]], waits: [[after, at]] }
  let range = { in: null, out: null };
  const changed = [];

  const width = () => Math.max(1, root.clientWidth);
  const x = (t) => tv.toX(view, t, width());
  const percent = (t) => `${(100 * (t - view.from)) / tv.span(view)}%`;
  const timeAt = (clientX) => tv.toTime(view, clientX - root.getBoundingClientRect().left, width());

  function drawRuler() {
    const { frames, times } = tv.ticks(view, width(), fps);
    ruler.replaceChildren(...times.map((t) => {
      const tick = document.createElement("span");
      tick.style.left = `${x(t)}px`;
      tick.textContent = frames ? `${clockOf(t)} f${Math.round(t * fps) % fps}` : clockOf(t);
      return tick;
    }));
  }

  function drawFilmstrip() {
    if (!film) return;
    const shown = tv.pictures(view, width(), film.times);
    // the same <img> elements, their sources changed only where the
    // picture did; one not come yet keeps what it showed until it does
    while (strip.children.length > shown.length) strip.lastChild.remove();
    shown.forEach((picture, k) => {
      const img = strip.children[k] || strip.appendChild(document.createElement("img"));
      const src = film.url(picture.index);
      if (src && img.getAttribute("src") !== src) {
        img.src = src;
        img.dataset.picture = picture.index;
      }
      img.alt = `picture at ${clockOf(film.times[picture.index] || 0)}`;
      Object.assign(img.style, { left: `${picture.x}px`, width: `${picture.width}px` });
    });
  }

  function drawItems(kind) {
    const inView = items[kind].filter((item) => (item.end ?? item.start) >= view.from
      && item.start <= view.to && (kind !== "mark" || tv.shows(item, filter)));
    tracks[kind].replaceChildren(...inView.map((item) => {
      const tick = document.createElement("div");
      const principle = (item.tags || []).map(tv.principleOf)[0] || item.principle?.split(".")[0];
      tick.className = `${kind}${item.end == null ? "" : " span"} p${principle || "0"}`;
      tick.style.left = percent(Math.max(item.start, view.from));
      if (item.end != null) {
        tick.style.width = percent(view.from + Math.min(item.end, view.to) - Math.max(item.start, view.from));
      }
      tick.title = `${kind === "clip" ? "clip" : "moment"} at ${clockOf(item.start)}`;
      return tick;
    }));
  }

  // who spoke when (the box's guess: adult, child or unknown) and the
  // adult's long waits after a child, on a track of their own
  function drawTalk() {
    if (!talk || !tracks.talk) return;
    const span = (start, end, className, title) => {
      const bar = document.createElement("div");
      bar.className = className;
      bar.style.left = percent(Math.max(start, view.from));
      bar.style.width = percent(view.from + Math.min(end, view.to) - Math.max(start, view.from));
      bar.title = title;
      return bar;
    };
    const seen = (start, end) => end >= view.from && start <= view.to;
    tracks.talk.replaceChildren(
      ...talk.segments.filter(([start, end]) => seen(start, end)).map(([start, end, who]) =>
        span(start, end, `talk ${who}`, `${who} speaking at ${clockOf(start)} (a guess)`)),
      ...talk.waits.filter(([after, at]) => seen(after, at)).map(([after, at]) =>
        span(after, at, "wait", `the adult waits ${(at - after).toFixed(1)} s`)));
  }

  function drawSound() {
    if (!sound) return;
    canvas.width = width();
    const context = canvas.getContext("2d");
    const middle = canvas.height / 2;
    context.fillStyle = "#2f6f73";
    tv.loudness(view, canvas.width, sound.peaks, sound.rate).forEach((peak, column) => {
      context.fillRect(column, middle - peak * middle, 1, Math.max(1, 2 * peak * middle));
    });
  }

  // the playhead and the I..O band: moved four times a second while playing,
  // the view turning its page as the film plays out of it (not when the
  // guider has zoomed or moved elsewhere with the film paused)
  function place() {
    const t = now();
    const turned = tv.follow(view, t, duration(), fps);
    if (playing() && turned !== view && !dragging()) {
      setView(turned);
      return;
    }
    playhead.hidden = t < view.from || t > view.to;
    playhead.style.left = percent(t);
    band.hidden = range.in === null || range.out === null;
    if (!band.hidden) {
      band.style.left = percent(Math.max(range.in, view.from));
      band.style.width = percent(view.from + Math.max(0, Math.min(range.out, view.to)
        - Math.max(range.in, view.from)));
    }
  }

  function render() {
    drawRuler(); drawFilmstrip(); drawItems("mark"); drawItems("clip"); drawTalk(); drawSound();
    place();
  }

  function setView(next) {
    view = tv.clamp(next, duration(), fps);
    // the stretch shown, in seconds, for whoever reads the page's state
    Object.assign(root.dataset, { from: view.from.toFixed(3), to: view.to.toFixed(3) });
    render();
    for (const listener of changed) listener(view);
  }

  // pointers: a tap seeks, a drag moves along, two fingers pinch
  const pointers = new Map();
  let gesture = null;
  const dragging = () => gesture !== null && gesture.kind !== "tap";
  const apart = () => { const [a, b] = [...pointers.values()]; return Math.abs(a.clientX - b.clientX) || 1; };
  const middleX = () => [...pointers.values()].reduce((sum, p) => sum + p.clientX, 0) / pointers.size;

  root.addEventListener("pointerdown", (event) => {
    root.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, event);
    gesture = pointers.size === 1 ? { kind: "tap", x: event.clientX, view }
      : { kind: "pinch", view, apart: apart(), at: timeAt(middleX()) };
  });
  root.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId) || !gesture) return;
    pointers.set(event.pointerId, event);
    if (gesture.kind === "pinch" && pointers.size === 2) {
      const zoomed = tv.zoom(gesture.view, apart() / gesture.apart, gesture.at, duration(), fps);
      // and the time between the fingers stays between them as they move
      setView(tv.pan(zoomed, gesture.at - tv.toTime(zoomed, middleX() - root.getBoundingClientRect().left, width()), duration(), fps));
    } else if (gesture.kind !== "pinch" && Math.abs(event.clientX - gesture.x) > DRAG_PIXELS) {
      gesture.kind = "drag";
      setView(tv.pan(gesture.view, -((event.clientX - gesture.x) / width()) * tv.span(gesture.view), duration(), fps));
    }
  });
  const release = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    if (gesture?.kind === "tap" && event.type === "pointerup") seek(timeAt(event.clientX));
    if (pointers.size === 0) gesture = null;
  };
  root.addEventListener("pointerup", release);
  root.addEventListener("pointercancel", release);
  root.addEventListener("wheel", (event) => {
    event.preventDefault();
    if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      const by = event.shiftKey ? event.deltaY : event.deltaX;
      setView(tv.pan(view, (by / width()) * tv.span(view), duration(), fps));
    } else {
      setView(tv.zoom(view, Math.exp(-event.deltaY / 300), timeAt(event.clientX), duration(), fps));
    }
  }, { passive: false });
  new ResizeObserver(render).observe(root);
  setView(view);

  return {
    render, place, view: () => view, setView,
    whole: () => setView(tv.whole(duration())),
    // closer (factor above 1) or further, around the playhead when it is on screen
    zoomBy: (factor) => {
      const t = now();
      setView(tv.zoom(view, factor, t >= view.from && t <= view.to ? t : (view.from + view.to) / 2,
        duration(), fps));
    },
    // a seek off screen (to a mark, say) brings the view to it
    reveal: (t) => { const turned = tv.follow(view, t, duration(), fps); if (turned !== view) setView(turned); },
    onChange: (listener) => changed.push(listener),
    setItems: (kind, list) => { items[kind] = list; drawItems(kind); },
    setFilter: (next) => { filter = next; drawItems("mark"); },
    setFilmstrip: (next) => { film = next; drawFilmstrip(); },
    setSound: (next) => { sound = next; drawSound(); },
    setTalk: (next) => { talk = next; drawTalk(); },
    setRange: (next) => { range = next; place(); },
  };
}

function clockOf(t) {
  const seconds = Math.floor(t % 60);
  return `${Math.floor(t / 60)}:${String(seconds).padStart(2, "0")}`;
}
