// One way to talk to the box: JSON, the CSRF token from the page's meta
// tag on every request, and back to the unlock page when the session has
// locked itself. Errors go to ``report`` and come back as null.
const csrf = document.querySelector('meta[name="csrf-token"]').content;

export async function api(method, path, body, report = () => {}) {
  const response = await fetch(path, {
    method, headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { window.location = "/unlock"; return null; }
  const data = response.status === 204 ? {} : await response.json();
  if (!response.ok) { report(data.error); return null; }
  report("");
  return data;
}
