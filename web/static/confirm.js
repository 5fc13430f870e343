// Asking before anything is destroyed: a dialog that says what will go,
// and (for a deletion) asks why, from the box's list of reasons. Resolves
// to the reason's code, or null when the guider thinks better of it.
import { api } from "./api.js";

let reasons = null;

export async function confirmDelete(what) {
  reasons = reasons || (await api("GET", "/api/deletion/reasons")) || {};
  const dialog = document.createElement("dialog");
  dialog.className = "confirm danger";
  const text = document.createElement("p");
  text.textContent = `Delete ${what}? It cannot be undone.`;
  const label = document.createElement("label");
  label.textContent = "Why: ";
  const choice = document.createElement("select");
  choice.id = "delete-reason";
  choice.append(new Option("choose…", ""),
    ...Object.entries(reasons).map(([code, words]) => new Option(words, code)));
  label.append(choice);
  const yes = Object.assign(document.createElement("button"),
    { textContent: "Delete", className: "danger", id: "confirm-delete", disabled: true });
  const no = Object.assign(document.createElement("button"),
    { textContent: "Keep it", id: "cancel-delete" });
  choice.addEventListener("change", () => { yes.disabled = !choice.value; });
  dialog.append(text, label, yes, no);
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    const close = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    yes.addEventListener("click", () => close(choice.value));
    no.addEventListener("click", () => close(null));
    dialog.addEventListener("cancel", () => close(null));
  });
}
