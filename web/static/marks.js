// The marks panel: moments (M) and ranges (I..O) of the film, each tagged
// with the Principles of Attuned Interaction and Guidance and given a note
// (sealed on the box). Clicking a mark's time jumps there.
import { api as request } from "./api.js";
import { drawMarks, player } from "./player.js";

const panel = document.querySelector(".marks-panel");
const recording = panel.dataset.recording;
const list = document.getElementById("marks");
const message = document.getElementById("marks-message");
let principles = [];
let marks = [];

const api = (method, path, body) => request(method, path, body, (text) => { message.textContent = text; });

function tagPicker(mark) {
  const details = document.createElement("details");
  details.innerHTML = "<summary>Tags</summary>";
  for (const principle of principles) {
    const group = document.createElement("fieldset");
    group.innerHTML = `<legend></legend>`;
    group.querySelector("legend").textContent = principle.name;
    for (const tag of [{ code: principle.code, name: "(the principle itself)" }, ...principle.items]) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = tag.code;
      box.checked = mark.tags.includes(tag.code);
      box.addEventListener("change", () => saveTags(mark, details));
      label.append(box, ` ${tag.code} ${tag.name}`);
      group.appendChild(label);
    }
    details.appendChild(group);
  }
  return details;
}

async function saveTags(mark, details) {
  const tags = [...details.querySelectorAll("input:checked")].map((box) => box.value);
  const saved = await api("PATCH", `/api/marks/${mark.id}`, { tags });
  if (saved) { Object.assign(mark, saved); render(); }
}

function item(mark) {
  const li = document.createElement("li");
  li.dataset.id = mark.id;
  const when = document.createElement("button");
  when.className = "when";
  when.textContent = mark.end === null ? player.clock(mark.start)
    : `${player.clock(mark.start)}–${player.clock(mark.end)}`;
  when.addEventListener("click", () => player.seek(mark.start));
  const chips = document.createElement("span");
  chips.className = "tags";
  chips.textContent = mark.tags.join(" · ") || (mark.source === "button" ? "from the button" : "untagged");
  const note = document.createElement("textarea");
  note.value = mark.note;
  note.placeholder = "Note (sealed)";
  note.addEventListener("change", () => api("PATCH", `/api/marks/${mark.id}`, { note: note.value }));
  const remove = document.createElement("button");
  remove.textContent = "Delete";
  remove.addEventListener("click", async () => {
    if (await api("DELETE", `/api/marks/${mark.id}`)) await load();
  });
  li.append(when, chips, tagPicker(mark), note, remove);
  return li;
}

function render() {
  const open = new Set([...list.querySelectorAll("details[open]")].map((d) => d.closest("li").dataset.id));
  list.replaceChildren(...marks.map(item));
  for (const li of list.children) if (open.has(li.dataset.id)) li.querySelector("details").open = true;
  drawMarks(marks);
}

async function load() {
  marks = (await api("GET", `/api/recordings/${recording}/marks`)) || [];
  render();
}

async function add(start, end) {
  if ((await api("POST", `/api/recordings/${recording}/marks`, { start, end, tags: [] }))) await load();
}

function addMoment() { add(player.video.currentTime, null); }
function addRange() {
  const range = player.range();
  if (range.in === null || range.out === null || range.out <= range.in) {
    message.textContent = "Set an in point (I) before an out point (O) first.";
    return;
  }
  add(range.in, range.out);
}

document.getElementById("add-mark").addEventListener("click", addMoment);
document.getElementById("add-range").addEventListener("click", addRange);
player.addKey("m", addMoment);
player.addKey("M", addMoment);
principles = (await api("GET", "/api/principles")) || [];
await load();
