// Suggested moments: the box's interaction map of this film (who spoke
// when, adult or child, guessed from the sound alone, on the box), drawn
// on the timeline, and the moments where a child spoke and the adult
// answered, best first. Each can be looked at, made a mark (tagged as any
// mark) or set aside. The map is made on the box the first time it is
// asked for, after the film's first frame (over the hotspot the film comes
// first), and the page asks how far it has got every second meanwhile.
import { once, api as request } from "./api.js";
import { player } from "./player.js";
import { BACKGROUND } from "./session.js";

const panel = document.querySelector(".suggestions-panel");
const recording = panel.dataset.recording;
const list = document.getElementById("suggestions");
const progress = document.getElementById("suggestions-progress");
const message = document.getElementById("suggestions-message");
const summary = document.getElementById("suggestions-summary");
const say = (text) => { message.textContent = text || ""; };
const api = (method, path, body) => request(method, path, body, say);
// what the panel reads for itself says only what went wrong: a reload of
// the marks must not wipe the panel's message (no consent, say)
const look = (path) => request("GET", path, undefined, (text) => { if (text) say(text); });
let principles = [];
let marks = [];

const percent = (share) => `${Math.round(100 * share)} %`;

function describe(figures) {
  const wait = figures.median_wait === null ? "none yet"
    : `${figures.median_wait.toFixed(1)} s`;
  return `Turns between adult and child: ${figures.turns} (${figures.turns_per_minute.toFixed(1)} a minute). `
    + `The adult's median wait after the child: ${wait}. Talk: adult `
    + `${percent(figures.talk_share.adult)}, child ${percent(figures.talk_share.child)}. `
    + "Descriptive only: no norm, no score.";
}

const marked = (moment) => marks.some((m) => m.start <= moment.at && (m.end ?? m.start) >= moment.start);

function item(moment) {
  const li = document.createElement("li");
  li.dataset.start = moment.start;
  li.classList.toggle("marked", marked(moment));
  const when = document.createElement("button");
  when.textContent = player.clock(moment.start);
  when.title = "Go there";
  when.addEventListener("click", () => player.seek(moment.start));
  const why = Object.assign(document.createElement("span"), { className: "why", textContent: ` ${moment.why} ` });
  const tag = document.createElement("select");
  tag.setAttribute("aria-label", `Principle for the moment at ${player.clock(moment.start)}`);
  tag.append(new Option("(untagged)", ""), ...principles.map((p) => new Option(p.name, p.code)));
  const mark = document.createElement("button");
  mark.textContent = "Mark it";
  mark.addEventListener("click", async () => {
    const made = await api("POST", `/api/recordings/${recording}/marks`,
      { start: moment.start, end: moment.end, tags: tag.value ? [tag.value] : [] });
    if (made) { marks.push(made); li.classList.add("marked"); document.dispatchEvent(new Event("vigbox:marks-changed")); }
  });
  const aside = document.createElement("button");
  aside.textContent = "Set aside";
  aside.addEventListener("click", async () => {
    if (await api("POST", `/api/recordings/${recording}/moments/dismissed`, { start: moment.start })) li.remove();
  });
  li.append(when, why, tag, mark, aside);
  return li;
}

function show(found, dismissed) {
  player.timeline.setTalk({
    segments: found.segments,
    waits: found.long_waits.map(([after, at]) => [after, at]),
  });
  summary.textContent = describe(found.summary);
  const left = found.moments.filter((m) => !dismissed.includes(m.start));
  list.replaceChildren(...left.map(item));
  say(left.length ? "" : "No moment to suggest: the box heard no child answered by an adult.");
}

function notConsented() {
  say("No consent for the box to analyse the films' sound: no suggestions. "
    + "(Consent is recorded on the Intervention page.)");
}

async function poll() {
  const response = await fetch(`/api/recordings/${recording}/interaction`, { headers: BACKGROUND });
  const data = await response.json().catch(() => ({}));
  if (response.status === 202 && data.state !== "failed") {
    progress.hidden = false;
    progress.value = data.progress || 0;
    say(data.state === "waiting" ? "Waiting: the box is filming; it listens once the take is over."
      : "The box is listening to the film's sound…");
    setTimeout(poll, 1000);
    return;
  }
  progress.hidden = true;
  if (response.status === 403) { notConsented(); return; }  // withdrawn since the page came
  if (!response.ok || data.state === "failed") {
    say(`The sound could not be analysed${data.error ? `: ${data.error}` : ""}.`);
    return;
  }
  show(data.map, data.dismissed);
}

function afterFirstFrame(go) {
  const video = player.video;
  if (video.readyState >= 2) { go(); return; }
  let done = false;
  const first = () => { if (!done) { done = true; go(); } };
  video.addEventListener("loadeddata", first, { once: true });
  video.addEventListener("error", first, { once: true });
}

document.addEventListener("vigbox:marks-changed", async () => {
  marks = (await look(`/api/recordings/${recording}/marks`)) || marks;
});
const [known, found] = await Promise.all([
  once("/api/principles", (text) => { if (text) say(text); }),
  look(`/api/recordings/${recording}/marks`)]);
principles = known || [];
marks = found || marks;
// without consent the page does not ask (the box would refuse, 403)
if (panel.dataset.consented === "yes") afterFirstFrame(poll); else notConsented();
