// Goals a mark, clip or still is linked to: the intervention's goals by
// number, with their words (sealed on the box, shown unlocked), as
// checkboxes; the linked goals as short chips.
import { api } from "./api.js";

let goals = null;   // [{number, words}], once they have come
let asked = null;   // asked once, however many panels want them at once

export function loadGoals() {
  asked = asked || api("GET", "/api/goals").then((found) => {
    goals = found || [];
    return goals;
  });
  return asked;
}

export function goalChips(linked) {
  return linked.map((n) => `Goal ${n}`).join(" · ");
}

// A <details> of checkboxes; onChange(numbers) when one is ticked or not.
export function goalPicker(linked, onChange) {
  const details = document.createElement("details");
  details.className = "goal-picker";
  details.innerHTML = "<summary>Goals</summary>";
  if (!goals || goals.length === 0) {
    details.append("No goals were set for this intervention.");
    return details;
  }
  for (const goal of goals) {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"),
      { type: "checkbox", value: String(goal.number), checked: linked.includes(goal.number) });
    box.addEventListener("change", () => onChange(
      [...details.querySelectorAll("input:checked")].map((b) => Number(b.value))));
    label.append(box, ` Goal ${goal.number}: ${goal.words}`);
    details.appendChild(label);
  }
  return details;
}
