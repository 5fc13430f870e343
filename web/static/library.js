// The library page: the recorder's state, and its buttons. No inline
// script (the Content-Security-Policy forbids it); every change carries the
// CSRF token from the page's meta tag.
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const state = document.getElementById("recorder-state");
const message = document.getElementById("recorder-message");

async function refresh() {
  const response = await fetch("/api/recorder");
  if (response.status === 401) { window.location = "/unlock"; return; }
  const status = await response.json();
  state.textContent = status.error ? `${status.state}: ${status.error}` : status.state;
}

async function act(action) {
  const response = await fetch(`/api/recorder/${action}`, {
    method: "POST", headers: { "X-CSRF-Token": csrf },
  });
  const body = await response.json();
  message.textContent = response.ok ? `${action}: ok` : body.error;
  await refresh();
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => act(button.dataset.action));
}
refresh();
setInterval(refresh, 2000);
