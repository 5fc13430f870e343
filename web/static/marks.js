// The marks panel: moments (M) and ranges (I..O) of the film, each tagged
// with the Principles of Attuned Interaction and Guidance and given a note
// (sealed on the box). Clicking a mark's time jumps there.
import { once, api as request } from "./api.js";
import { finder } from "./finder.js";
import { goalChips, goalPicker, loadGoals } from "./goals.js";
import { pictureAt } from "./overview.js";
import { drawMarks, player } from "./player.js";
import { saveAsTyped } from "./session.js";

const panel = document.querySelector(".marks-panel");
const recording = panel.dataset.recording;
const list = document.getElementById("marks");
const message = document.getElementById("marks-message");
let principles = [];
let marks = [];

const api = (method, path, body) => request(method, path, body, (text) => { message.textContent = text; });
// reading the marks says only what went wrong: a load arriving after a
// refused change (a goal the intervention lacks) must not clear its message
const look = (path) => request("GET", path, undefined, (text) => { if (text) message.textContent = text; });

function tagName(code) {
  for (const principle of principles) {
    if (principle.code === code) return principle.name;
    const item = principle.items.find((tag) => tag.code === code);
    if (item) return `${principle.name}: ${item.name}`;
  }
  return code;
}

// its boxes made when first opened: forty marks' pickers, some thirty
// boxes each, were most of what the player drew on opening
function tagPicker(mark) {
  const details = document.createElement("details");
  details.className = "tag-picker";
  details.innerHTML = "<summary>Tags</summary>";
  details.addEventListener("toggle", () => {
    if (details.open && details.children.length === 1) fillTagPicker(mark, details);
  });
  return details;
}

function fillTagPicker(mark, details) {
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
      label.append(box, ` ${tag.name}`);
      label.title = tag.code;
      group.appendChild(label);
    }
    details.appendChild(group);
  }
}

// A change goes with what this page saw of the mark, so another tab's
// change since is not saved over unsaid (two tabs had each lost the
// other's tags and note). Tags and goals are merged: what was ticked or
// unticked here, applied to the mark as it is now. A note is not: the
// other words are shown, and what was typed here stays, saved over them
// when the guider types on.
async function patchMark(mark, change) {
  let now = null;
  const said = (text, data) => { if (data && data.mark) now = data.mark; else message.textContent = text; };
  const seen = (key) => (key === "note" ? mark.saved : mark[key] || []);
  const send = (body) => request("PATCH", `/api/marks/${mark.id}`,
    { ...body, was: Object.fromEntries(Object.keys(body).map((key) => [key, seen(key)])) }, said);
  const saved = await send(change);
  if (saved || !now) return saved;
  const merged = {};
  for (const key of ["tags", "goals"].filter((k) => k in change)) {
    const added = change[key].filter((x) => !seen(key).includes(x));
    const removed = seen(key).filter((x) => !change[key].includes(x));
    merged[key] = [...new Set([...now[key].filter((x) => !removed.includes(x)), ...added])];
  }
  if ("note" in change) {  // only the note is taken as seen: the pickers still show the rest
    mark.saved = now.note;
    message.textContent = `Another page changed this note to: “${now.note}”. What you typed ` +
      "here stays, and is saved over it when you type on.";
    return null;
  }
  // seen as it is now; the other note shown, unless words are being typed
  const typing = mark.note !== mark.saved;
  Object.assign(mark, { tags: now.tags, goals: now.goals },
    typing ? {} : { note: now.note, saved: now.note });
  now = null;
  const again = await send(merged);
  if (!again && now) {  // changing there too: drawn again from the box, not from stale boxes
    await load();
    message.textContent = "Another page is changing this mark too: look again.";
  }
  return again;
}

async function saveTags(mark, details) {
  const tags = [...details.querySelectorAll("input:checked")].map((box) => box.value);
  const saved = await patchMark(mark, { tags });
  // the box's copy of the note may be behind what is being typed: keep ours
  if (saved) { Object.assign(mark, { ...saved, note: mark.note }); render(); }
}

// A note is saved as it is typed (a pause of a second) and when it loses
// focus; the mark keeps the words typed, so a redraw (a tag ticked on
// another mark) shows them: it had shown the note as first loaded.
function noteBox(mark) {
  const note = document.createElement("textarea");
  note.value = mark.note;
  note.placeholder = "Note (locked on the box; goes with a clip of this moment in an export)";
  saveAsTyped(note, `note ${mark.id}`, {
    saved: mark.saved,
    save: async (words) => {
      if (!(await patchMark(mark, { note: words }))) return false;
      mark.saved = words;
      return true;
    },
    typed: (words) => { mark.note = words; },
  });
  return note;
}

// a thumbnail is asked for when its mark comes near sight (a screen's
// height, as the browser's own lazy images): the marks far out of sight
// cost nothing, and those in sight wait behind the timeline's own
// pictures (a guider opening a film looks at the timeline first)
const inSight = new IntersectionObserver((entries) => {
  for (const { target, isIntersecting } of entries) {
    if (!isIntersecting) continue;
    inSight.unobserve(target);
    pictureAt(Number(target.dataset.start)).then((src) => {
      if (src) target.src = src; else target.remove();
    });
  }
}, { rootMargin: "100% 0px" });

// A mark (and its note) went at one click, with no way back, where films,
// clips and stills ask first: one is put back as it was, its note with it,
// until something else is said in the panel.
function offerUndo(mark) {
  const undo = Object.assign(document.createElement("button"),
    { textContent: "Undo", id: "undo-delete", type: "button" });
  undo.addEventListener("click", async () => {
    undo.disabled = true;  // once: a double click had put it back twice
    const { start, end, tags, goals, note } = mark;
    const back = await api("POST", `/api/recordings/${recording}/marks`,
      { start, end, tags, goals: goals || [], note });
    if (back) { await load(); message.textContent = "Mark put back."; }
  });
  message.replaceChildren(`Mark at ${player.clock(mark.start)} deleted. `, undo);
}

function item(mark) {
  const li = document.createElement("li");
  li.dataset.id = mark.id;
  const when = document.createElement("button");
  when.className = "when";
  when.textContent = mark.end === null ? player.clock(mark.start)
    : `${player.clock(mark.start)}–${player.clock(mark.end)}`;
  when.addEventListener("click", () => player.seek(mark.start));
  // what was on screen then (the filmstrip's picture): found again at a
  // glance; no alt: the button's words say when
  const thumb = Object.assign(document.createElement("img"), { className: "mark-thumb", alt: "" });
  thumb.dataset.start = mark.start;
  inSight.observe(thumb);
  when.prepend(thumb);
  const chips = document.createElement("span");
  chips.className = "tags";
  // the principles by their names; the codes only as a hint
  chips.textContent = mark.tags.map(tagName).join(" · ") || (mark.source === "button"
    ? "marked with the box's button" : "untagged");
  chips.title = mark.tags.join(" · ");
  const goals = document.createElement("span");
  goals.className = "goals";
  goals.textContent = goalChips(mark.goals || []);
  const picker = goalPicker(mark.goals || [], async (numbers) => {
    const saved = await patchMark(mark, { goals: numbers });
    if (!saved) return;
    mark.goals = saved.goals;
    // merged with another page's: the picker is drawn again, or its stale
    // boxes would send the other page's goal away at the next tick
    if (String(saved.goals) !== String([...numbers].sort((a, b) => a - b))) render();
    else goals.textContent = goalChips(mark.goals);
  });
  const note = noteBox(mark);
  const remove = document.createElement("button");
  remove.textContent = "Delete";
  remove.addEventListener("click", async () => {
    if (await api("DELETE", `/api/marks/${mark.id}`)) { await load(); offerUndo(mark); }
  });
  li.append(when, chips, goals, tagPicker(mark), picker, note, remove);
  return li;
}

function render() {
  const open = new Set([...list.querySelectorAll("details[open]")]
    .map((d) => `${d.closest("li").dataset.id} ${d.className}`));
  const typing = document.activeElement?.closest("#marks li textarea");
  const caret = typing && [typing.closest("li").dataset.id, typing.selectionStart];
  for (const thumb of list.querySelectorAll("img.mark-thumb")) inSight.unobserve(thumb);
  list.replaceChildren(...marks.map(item));
  marks.forEach((mark, k) => {
    list.children[k].hidden = !finder.shows(mark);
    // words typed and not yet saved: the new field saves them (the old one's is gone)
    if (mark.note !== mark.saved) list.children[k].querySelector("textarea")
      .dispatchEvent(new Event("input"));
  });
  for (const details of list.querySelectorAll("details")) {
    if (open.has(`${details.closest("li").dataset.id} ${details.className}`)) details.open = true;
  }
  if (caret) {  // the guider was typing a note: carry on where they were
    const box = list.querySelector(`li[data-id="${caret[0]}"] textarea`);
    if (box) { box.focus(); box.setSelectionRange(caret[1], caret[1]); }
  }
  drawMarks(marks);
}

async function load() {
  show(await look(`/api/recordings/${recording}/marks`));
}

function show(found) {
  const typed = new Map(marks.filter((m) => m.note !== m.saved).map((m) => [m.id, m.note]));
  marks = found || [];
  for (const mark of marks) {
    mark.saved = mark.note;
    if (typed.has(mark.id)) mark.note = typed.get(mark.id);  // not yet saved: keep it
  }
  finder.setMarks(marks);
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
// a suggested moment made a mark (interaction.js)
document.addEventListener("vigbox:marks-changed", load);
// asked together: one after another they cost three round trips
const [known, goals, found] = await Promise.all([
  once("/api/principles", (text) => { if (text) message.textContent = text; }),
  loadGoals(), look(`/api/recordings/${recording}/marks`)]);
principles = known || [];
finder.fill(principles, goals);
finder.onChange(render);
show(found);
