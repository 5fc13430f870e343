// The set-up form as a wizard: one fieldset at a time (without this
// script every fieldset shows and the form still works).
const steps = [...document.querySelectorAll("form.setup fieldset[data-step]")];
const back = document.getElementById("back");
const next = document.getElementById("next");
const create = document.getElementById("create");
let at = 0;

function show(n) {
  at = Math.max(0, Math.min(steps.length - 1, n));
  steps.forEach((step, i) => { step.hidden = i !== at; });
  back.hidden = at === 0;
  next.hidden = at === steps.length - 1;
  create.hidden = at !== steps.length - 1;
}

function stepIsValid() {
  const fields = [...steps[at].querySelectorAll("input, select, textarea")];
  const bad = fields.find((field) => !field.checkValidity());
  if (bad) { bad.reportValidity(); return false; }
  return true;
}

back.addEventListener("click", () => show(at - 1));
next.addEventListener("click", () => { if (stepIsValid()) show(at + 1); });
document.getElementById("use-suggestion").addEventListener("click", () => {
  const words = document.getElementById("suggestion").textContent.trim();
  for (const id of ["passphrase", "passphrase2"]) document.getElementById(id).value = words;
});
show(0);
