// A film asked for while this laptop's other players hold its share of the
// box's long responses is answered 429, "ask again in a second"
// (web/streams.py); a <video> takes any refusal as the film's failure and
// never asks again. Here it asks again, from where it was, playing if it
// was, for as long as the box says the film is there (a one-byte range,
// which holds no slot, asks): locked, or the film gone, it stops. A film
// that fails at the same place again and again (damaged there) is asked
// for a few times, not for ever: only playing well past where it failed
// counts as mended.
//
//   import { askAgain } from "./ask_again.js";
//   askAgain(document.getElementById("video"));
import { BACKGROUND } from "./session.js";

const TRIES = 10;        // without getting past the place it failed: a minute or so
const FIRST_WAIT = 1000; // the box's Retry-After; longer after each try
// seconds played past the failure that count as mended: more than a
// player reads ahead, so a film damaged further on, which fails while the
// player is still short of the damage, is not taken for mended each time
const MENDED_AFTER = 30;
const MAYBE_REFUSED = [MediaError.MEDIA_ERR_NETWORK, MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED];

async function filmThere(src) {
  try {
    const answer = await fetch(src, {
      headers: { ...BACKGROUND, Range: "bytes=0-0" }, cache: "no-store",
    });
    return answer.status;
  } catch {
    return 0;  // off the Wi-Fi for a moment: as a refusal, try again
  }
}

const pause = (ms) => new Promise((go) => { setTimeout(go, ms); });

export function askAgain(video, { tries = TRIES, firstWait = FIRST_WAIT } = {}) {
  // the film being asked for again: where it was and whether it played,
  // taken at its first refusal (a refused reload is at 0, paused)
  let pending = null;
  let asking = false;  // one round of asking at a time, however many errors
  let failed = 0;        // tries since the film last played past where it failed
  let failedAt = null;
  let failedSrc = null;
  let wanted = false;  // playing, or asked to play (load() fires no pause)
  const want = (yes) => { wanted = yes; if (pending) pending.play = yes; };
  video.addEventListener("play", () => want(true));
  // Chromium pauses a film it failed: that pause is not the guider's
  video.addEventListener("pause", () => { if (!video.error) want(false); });
  video.addEventListener("timeupdate", () => {
    if (failedAt !== null && video.currentTime > failedAt + MENDED_AFTER) {
      failed = 0;
      failedAt = null;
    }
  });
  video.addEventListener("loadedmetadata", () => {
    const resume = pending;
    pending = null;
    if (!resume || video.currentSrc !== resume.src) return;  // another film since
    video.currentTime = resume.at;
    if (resume.play) video.play().catch(() => {});
  });

  async function refused() {
    const src = video.currentSrc;
    if (!src || !video.error || !MAYBE_REFUSED.includes(video.error.code)) return;
    if (pending && pending.src !== src) pending = null;
    if (!pending) {
      if (src !== failedSrc) failed = 0;
      pending = { src, at: video.currentTime, play: wanted };
      failedAt = video.currentTime;
      failedSrc = src;
    }
    if (asking) return;
    asking = true;
    try {
      let there = false;
      while (!there && failed < tries) {
        await pause(firstWait * (1 + failed));
        failed += 1;
        if (video.currentSrc !== src) return;  // another film was asked for meanwhile
        const status = await filmThere(src);
        if (video.currentSrc !== src) return;
        there = status === 206 || status === 200;
        if (!there && status !== 429 && status !== 0) break;  // locked, or gone: not ours
      }
      if (!there) { pending = null; return; }
      video.load();  // keeps defaultPlaybackRate, the speed the guider chose
    } finally {
      asking = false;
    }
  }
  video.addEventListener("error", refused);
  // the film in the page's HTML was asked for, and maybe refused, before
  // this module ran
  if (video.error) refused();
}
