// A film asked for while this laptop's other players hold its share of the
// box's long responses is answered 429, "ask again in a second"
// (web/streams.py); a <video> takes any refusal as the film's failure and
// never asks again. Here it asks again, from where it was, playing if it
// was. A one-byte range asks the box first, and holds no slot: while the
// box says "not yet" (no slot free, locked until the guider unlocks, or no
// answer while the Wi-Fi is gone) it waits and says so, for as long as
// that lasts; the film gone, it stops. A film that fails at the same place
// again and again once the box says it is there (damaged there) is asked
// for a few times, not for ever: only playing well past where it failed
// counts as mended. Given up, it says why in words a guider can act on.
//
//   import { askAgain } from "./ask_again.js";
//   askAgain(document.getElementById("video"), { say: (words) => show(words) });
import { BACKGROUND } from "./session.js";

const TRIES = 10;        // reloads without getting past the place it failed
const FIRST_WAIT = 1000; // the box's Retry-After; longer after each try
const MOST_WAIT = 10000; // between askings while the box says "not yet"
// seconds played past the failure that count as mended: more than a
// player reads ahead, so a film damaged further on, which fails while the
// player is still short of the damage, is not taken for mended each time
const MENDED_AFTER = 30;
const HAVE_NOTHING = 0;  // HTMLMediaElement.HAVE_NOTHING
const MAYBE_REFUSED = [MediaError.MEDIA_ERR_NETWORK, MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED];
// no slot free, locked (the page's unlock dialog is up), no answer
const NOT_YET = [429, 401, 0];

// the box's answer to a one-byte range: its status, and the damage the
// box has found in the film (web/media.py), if any
async function filmThere(src) {
  try {
    const answer = await fetch(src, {
      headers: { ...BACKGROUND, Range: "bytes=0-0" }, cache: "no-store",
    });
    const said = answer.ok ? null : await answer.json().then((b) => b.error, () => null);
    return { status: answer.status, damage: answer.headers.get("Vigbox-Damage"), said };
  } catch {
    return { status: 0, damage: null, said: null };  // off the Wi-Fi for a moment
  }
}

const clock = (t) => `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, "0")}`;

// what the guider is told while the box says "not yet"
export function whyWaiting(at, { status }) {
  const where = `The film stopped at ${clock(at)}`;
  if (status === 401) return `${where}: the box is locked. It goes on once you unlock it.`;
  if (status === 429) {
    return `${where}: the box is sending as many films as it can (this laptop's other ` +
      "players, or other laptops'). It goes on when one of them ends.";
  }
  return `${where}: the box does not answer. It goes on when the Wi-Fi is back.`;
}

// why the film stopped for good: the box's last answer
export function whyStopped(at, { status, damage, said }) {
  const where = `The film stopped at ${clock(at)}`;
  if (status === 404) return `${where}: it is no longer on the box.`;
  if (status !== 206 && status !== 200) return `${where}: the box says ${said || status}.`;
  const found = damage ? ` The box has found damage in this recording: ${damage}` : "";
  return `${where} and would not play on, asked for again and again: the recording may be ` +
    `damaged, or the Wi-Fi too weak.${found} Reload the page to try again.`;
}

const pause = (ms) => new Promise((go) => { setTimeout(go, ms); });

export function askAgain(video, { tries = TRIES, firstWait = FIRST_WAIT, say = () => {} } = {}) {
  // the film being asked for again: where it was and whether it played,
  // taken at its first refusal (a refused reload is at 0, paused)
  let pending = null;
  let asking = false;  // one round of asking at a time, however many errors
  let failed = 0;        // reloads since the film last played past where it failed
  let failedAt = null;
  let failedSrc = null;
  let wanted = false;  // playing, or asked to play (load() fires no pause)
  let reloading = false; // the next emptied is this module's own reload
  // the last reload is still to prove itself: refused by a box that then
  // says "not yet", it was the film's turn lost, not the film failing (the
  // players of a laptop that failed together all reload together, and
  // those beyond the slots had each lost a try)
  let reloaded = false;
  const want = (yes) => { wanted = yes; if (pending) pending.play = yes; };
  // Chromium pauses a film it failed, with the error already set: that
  // pause is not the guider's. A pause after Play pressed while the film
  // waits is (it had let the film play by itself once back all the same)
  let playedWhileWaiting = false;
  video.addEventListener("play", () => { if (video.error) playedWhileWaiting = true; want(true); });
  video.addEventListener("pause", () => { if (!video.error || playedWhileWaiting) want(false); });
  // another film put in by the page starts paused unless the page plays it
  // (it had played by itself once asked for again, as the last one had)
  video.addEventListener("emptied", () => {
    if (!reloading) { wanted = false; pending = null; reloaded = false; }  // nor the last one's place
    reloading = false;
    playedWhileWaiting = false;
  });
  // a place the guider chose while the film waits is where it goes on
  video.addEventListener("seeking", () => { if (pending && video.error) pending.at = video.currentTime; });
  const mended = () => { failed = 0; failedAt = null; reloaded = false; };
  video.addEventListener("timeupdate", () => {
    if (failedAt !== null && video.currentTime > failedAt + MENDED_AFTER) mended();
  });
  video.addEventListener("ended", mended);  // a clip shorter than MENDED_AFTER, played out
  // the reload got the film: a "not yet" after it is another failure's, and
  // gave a damaged film its try back each time on a busy laptop
  video.addEventListener("loadeddata", () => { reloaded = false; });
  video.addEventListener("loadedmetadata", () => {
    const resume = pending;
    pending = null;
    if (!resume || video.currentSrc !== resume.src) return;  // another film since
    video.currentTime = resume.at;
    if (resume.play) video.play().catch(() => {});
  });

  // the box's answer once it is not "not yet", or null if the film is no
  // longer waiting (another film was put in, or it plays again); waits
  // longer each time, up to MOST_WAIT
  async function untilAnswered(src, at) {
    const waiting = () => video.currentSrc === src && video.error !== null;
    for (let n = 0; ; n += 1) {
      // spread: players that failed together do not all ask at once
      await pause(Math.min(firstWait * (1 + failed + n), MOST_WAIT) * (0.75 + Math.random() / 2));
      if (!waiting()) return null;
      const answer = await filmThere(src);
      if (!waiting()) return null;
      const notYet = NOT_YET.includes(answer.status);
      if (reloaded && notYet) failed = Math.max(0, failed - 1);
      reloaded = false;
      if (!notYet) return answer;
      say(whyWaiting(at, answer));
    }
  }

  // the film refused now, noted; false if it was no refusal
  function noteRefusal() {
    const src = video.currentSrc;
    if (!src || !video.error || !MAYBE_REFUSED.includes(video.error.code)) return false;
    if (pending && pending.src !== src) pending = null;
    if (!pending) {
      if (src !== failedSrc) failed = 0;
      pending = { src, at: video.currentTime, play: wanted };
      failedAt = video.currentTime;
      failedSrc = src;
    }
    return true;
  }

  // one round of asking at a time: it takes up whichever film is waiting
  // when it wakes (a clip refused while the last one's round waited had
  // been left dead)
  async function refused() {
    if (!noteRefusal() || asking) return;
    asking = true;
    try {
      while (pending && video.error) {
        const { src, at } = pending;
        const answer = await untilAnswered(src, at);
        if (!answer) {  // another film since (waiting in its turn, or not), or playing again
          if (pending && pending.src !== video.currentSrc) pending = null;
          continue;
        }
        if ((answer.status !== 206 && answer.status !== 200) || failed >= tries) {
          pending = null;
          say(whyStopped(at, answer));
          return;
        }
        failed += 1;
        // a place chosen before any of the film came (no seeking then: the
        // browser keeps it as where to start, and currentTime says it)
        if (video.readyState === HAVE_NOTHING && video.currentTime > 0) pending.at = video.currentTime;
        reloading = true;
        reloaded = true;
        video.load();  // keeps defaultPlaybackRate, the speed the guider chose
        return;
      }
    } finally {
      asking = false;
    }
  }
  video.addEventListener("error", refused);
  // the film in the page's HTML was asked for, and maybe refused, before
  // this module ran
  if (video.error) refused();
}
