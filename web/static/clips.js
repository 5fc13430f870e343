// The clips panel: cut the I..O range (exact or fast), watch the cut's
// progress, then name, reorder, play or delete the clips in review order.
import { once, api as request } from "./api.js";
import { confirmDelete } from "./confirm.js";
import { goalPicker, loadGoals } from "./goals.js";
import { drawMarks, player } from "./player.js";
import { saveAsTyped } from "./session.js";

const recording = document.querySelector(".clips-panel").dataset.recording;
const list = document.getElementById("clips");
const message = document.getElementById("clips-message");
const progress = document.getElementById("cut-progress");
let clips = [];

const api = (method, path, body) => request(method, path, body, (text) => { message.textContent = text; });
// what the page loads by itself says only what went wrong: a list that
// arrived after a refused click had wiped the refusal's words
const fetched = (path) => request("GET", path, undefined, (text) => {
  if (text) message.textContent = text;
});

async function cut(mode) {
  const range = player.range();
  if (range.in === null || range.out === null || range.out <= range.in) {
    message.textContent = "Set an in point (I) before an out point (O) first.";
    return;
  }
  await follow(await api("POST", `/api/recordings/${recording}/clips`,
    { start: range.in, end: range.out, mode }));
}

// A cut's progress until it is done; after a reload too (it had shown
// nothing while the cut went on, and guiders cut the same clip twice).
async function follow(started) {
  let job = started;
  progress.hidden = false;
  while (job && (job.state === "queued" || job.state === "cutting")) {
    progress.value = job.progress;
    message.textContent = job.state === "queued" ? "waiting for the cut before…" : "cutting…";
    await new Promise((resolve) => setTimeout(resolve, 300));
    job = await api("GET", `/api/jobs/${job.id}`);
  }
  progress.hidden = true;
  await load();
  if (job) message.textContent = job.state === "done" ? "clip ready" : `cut ${job.state}: ${job.error || ""}`;
}

async function move(index, by) {
  const other = index + by;
  if (other < 0 || other >= clips.length) return;
  [clips[index], clips[other]] = [clips[other], clips[index]];
  await Promise.all(clips.map((clip, order) => api("PATCH", `/api/clips/${clip.id}`, { order })));
  await load();
}

// Names typed, by clip, until the box has them: a redraw (a cut done, a
// clip moved) draws them as typed and gives the field back its focus. It
// had drawn the name as saved under the guider's typing, and the keys
// still being typed went to the player (a mark made, the range moved).
const typedNames = new Map();

function item(clip, index) {
  const li = document.createElement("li");
  li.dataset.id = clip.id;
  const name = document.createElement("input");
  name.className = "clip-name";
  name.value = typedNames.get(clip.id) ?? clip.name;
  name.placeholder = "Name (locked on the box; goes with the clip in an export)";
  saveAsTyped(name, `clip ${clip.id}`, {
    saved: clip.name,
    save: async (words) => {
      if (!(await api("PATCH", `/api/clips/${clip.id}`, { name: words }))) return false;
      clip.name = words;
      if (typedNames.get(clip.id) === words) typedNames.delete(clip.id);
      return true;
    },
    typed: (words) => { typedNames.set(clip.id, words); },
  });
  // the principle it shows: the caption when the clip is frozen in the review
  const principle = caption.cloneNode(true);
  principle.removeAttribute("id");
  principle.className = "clip-principle";
  principle.title = "The principle this clip shows (its caption in the shared review)";
  principle.value = clip.principle || "";
  principle.addEventListener("change", () => api("PATCH", `/api/clips/${clip.id}`,
    { principle: principle.value }));
  const principleLabel = document.createElement("label");
  principleLabel.append("Principle ", principle);
  const span = document.createElement("span");
  span.textContent = `${player.clock(clip.start)}–${player.clock(clip.end)} (${clip.mode})`;
  const video = document.createElement("video");
  video.controls = true;
  video.preload = "none";
  video.src = `/media/${clip.id}`;
  const buttons = [["▲", () => move(index, -1)], ["▼", () => move(index, 1)],
    ["Delete", async () => {
      const reason = await confirmDelete(`the clip ${clip.name || player.clock(clip.start)}`);
      if (reason && await api("DELETE", `/api/clips/${clip.id}`, { reason })) await load();
    }]];
  // the goals it is for: shown beside it in the shared review
  const goals = goalPicker(clip.goals, (numbers) => api("PATCH", `/api/clips/${clip.id}`,
    { goals: numbers }));
  li.append(name, principleLabel, goals, span, video, ...buttons.map(([text, action]) => {
    const button = document.createElement("button");
    button.textContent = text;
    button.addEventListener("click", action);
    return button;
  }));
  return li;
}

async function load() {
  const found = await fetched(`/api/recordings/${recording}/clips`);
  if (found === null) return;  // not answered: the list stays as it is, typing and all
  clips = found;
  const typing = document.activeElement?.closest("#clips input.clip-name");
  const caret = typing && [typing.closest("li").dataset.id, typing.selectionStart,
    typing.selectionEnd];
  list.replaceChildren(...clips.map(item));
  for (const field of list.querySelectorAll("input.clip-name")) {
    const clip = clips.find((c) => c.id === field.closest("li").dataset.id);
    if (field.value !== clip.name) field.dispatchEvent(new Event("input"));  // still to save
  }
  const field = caret && list.querySelector(`li[data-id="${caret[0]}"] input.clip-name`);
  if (field) { field.focus(); field.setSelectionRange(caret[1], caret[2]); }
  drawMarks(clips, "clip");
}

const stills = document.getElementById("stills");
const caption = document.getElementById("still-caption");

async function loadStills() {
  const found = (await fetched(`/api/recordings/${recording}/stills`)) || [];
  stills.replaceChildren(...found.map((still) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = `/media/${still.id}`;
    img.alt = still.caption_name || `still at ${player.clock(still.at)}`;
    const text = document.createElement("span");
    text.textContent = `${player.clock(still.at)} ${still.caption_name}`;
    const remove = Object.assign(document.createElement("button"),
      { textContent: "Delete", className: "delete-still" });
    remove.addEventListener("click", async () => {
      const reason = await confirmDelete(`the still at ${player.clock(still.at)}`);
      if (reason && await api("DELETE", `/api/stills/${still.id}`, { reason })) await loadStills();
    });
    const goals = goalPicker(still.goals, (numbers) => api("PATCH", `/api/stills/${still.id}`,
      { goals: numbers }));
    li.append(img, text, goals, remove);
    return li;
  }));
}

async function takeStill() {
  player.video.pause();
  const body = { at: player.video.currentTime, caption: caption.value || null };
  if (await api("POST", `/api/recordings/${recording}/stills`, body)) await loadStills();
}

// the buttons work from the first moment: bound before anything is
// awaited (a click while the principles still came was lost)
document.getElementById("take-still").addEventListener("click", takeStill);
document.getElementById("cut-exact").addEventListener("click", () => cut("exact"));
document.getElementById("cut-fast").addEventListener("click", () => cut("fast"));
const principles = once("/api/principles", (text) => { if (text) message.textContent = text; });
const goalsCame = loadGoals();
for (const principle of (await principles) || []) {
  for (const tag of [{ code: principle.code, name: principle.name }, ...principle.items]) {
    const option = document.createElement("option");
    option.value = tag.code;
    option.textContent = tag.code.includes(".") ? `  ${tag.name}` : tag.name;
    option.title = tag.code;
    caption.appendChild(option);
  }
}
await goalsCame;
loadStills();
await load();
for (const job of (await fetched(`/api/recordings/${recording}/jobs`)) || []) await follow(job);
