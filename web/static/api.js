// One way to talk to the box: JSON, the CSRF token from the page's meta
// tag on every request. When the session has locked itself, the page asks
// for the passphrase in its own dialog and sends the request again: a
// note, a name or the reflections being saved are not lost (it had gone
// to the unlock page, and the words with it); refused for a token an
// unlock in another tab replaced, it is sent again with the new one.
// Errors go to ``report`` (with the box's whole answer) and come back as null.
import { answered, csrf, takeUpCsrf, unlockInPlace } from "./session.js";

const NO_ANSWER = "The box did not answer (is this laptop still on its Wi-Fi?): not saved " +
  "yet. What you typed stays here, and is saved when the box answers.";

// a save sent as the page is left (a field's change on the tap that
// leaves) outlives the page; browsers allow 64 KiB of such in all
const OUTLIVES_THE_PAGE = 32_000;

export async function api(method, path, body, report = () => {}, again = true) {
  let response;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  try {
    response = await fetch(path, {
      method, headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: payload,
      keepalive: method !== "GET" && new Blob([payload || ""]).size < OUTLIVES_THE_PAGE,
    });
  } catch {  // off the Wi-Fi for a moment: it had thrown past ``report``, unsaid
    answered(false);
    report(NO_ANSWER);
    return null;
  }
  answered(true);
  if (response.status === 401 && again) {
    await unlockInPlace();
    return api(method, path, body, report, false);
  }
  // refused for a token another tab's unlock replaced: sent again with the new one
  if (response.status === 403 && again && method !== "GET" && await takeUpCsrf()) {
    return api(method, path, body, report, false);
  }
  const data = response.status === 204 ? {} :
    await response.json().catch(() => ({ error: `the box answered ${response.status}` }));
  if (!response.ok) { report(data.error, data); return null; }
  report("");
  return data;
}

// What does not change while a page is open (the principles): asked once
// however many panels want it, and asked again only if it failed.
const kept = new Map();
export function once(path, report = () => {}) {
  if (!kept.has(path)) {
    kept.set(path, api("GET", path, undefined, report).then((data) => {
      if (data === null) kept.delete(path);
      return data;
    }));
  }
  return kept.get(path);
}
