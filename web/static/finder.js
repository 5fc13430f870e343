// Finding the moments: the marks on the timeline and in the list filtered
// by principle and by goal, and the moment before or after the playhead
// that the filter lets through ([ and ], or the buttons). The marks panel
// (marks.js) hands over its marks and redraws its list on a change.
//
//   finder.fill(principles, goals); finder.setMarks(marks);
//   finder.onChange(() => render());
import { player } from "./player.js";
import { nextMark, shows } from "./timeview.js";

const principle = document.getElementById("filter-principle");
const goal = document.getElementById("filter-goal");
const message = document.getElementById("finder-message");
const listeners = [];
let marks = [];

export const finder = {
  filter: () => ({ principle: principle.value, goal: goal.value }),
  shows: (mark) => shows(mark, finder.filter()),
  setMarks: (list) => { marks = list; say(); },
  onChange: (listener) => listeners.push(listener),
  // the six principles by name, the intervention's goals by their words
  fill(principles, goals) {
    principle.replaceChildren(new Option("all", ""),
      ...principles.map((p) => new Option(`${p.code}. ${p.name}`, p.code)));
    goal.replaceChildren(new Option("all", ""),
      ...goals.map((g) => new Option(`Goal ${g.number}: ${g.words}`, String(g.number))));
  },
};

// how many moments the filter shows, when it hides any
function say() {
  const count = marks.filter(finder.shows).length;
  message.textContent = principle.value || goal.value ? `${count} of ${marks.length} moments shown` : "";
}

function changed() {
  player.timeline.setFilter(finder.filter());
  say();
  for (const listener of listeners) listener();
}

function go(direction) {
  const at = nextMark(marks, player.video.currentTime, direction, finder.filter());
  if (at === null) {
    message.textContent = direction > 0 ? "No moment after this one." : "No moment before this one.";
    return;
  }
  say();
  player.video.pause();
  player.seek(at);
}

principle.addEventListener("change", changed);
goal.addEventListener("change", changed);
document.getElementById("prev-mark").addEventListener("click", () => go(-1));
document.getElementById("next-mark").addEventListener("click", () => go(1));
player.addKey("[", () => go(-1));
player.addKey("]", () => go(1));
