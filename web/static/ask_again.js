// A film asked for while this laptop's other players hold its share of the
// box's long responses is answered 429, "ask again in a second"
// (web/streams.py); a <video> takes any refusal as the film's failure and
// never asks again. Here it asks again, from where it was, playing if it
// was, for as long as the box says the film is there (a one-byte range,
// which holds no slot, asks): locked, or the film gone, it stops.
//
//   import { askAgain } from "./ask_again.js";
//   askAgain(document.getElementById("video"));
import { BACKGROUND } from "./session.js";

const TRIES = 10;        // in a row without playing: about a minute in all
const FIRST_WAIT = 1000; // the box's Retry-After; longer after each try
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

export function askAgain(video, { tries = TRIES, firstWait = FIRST_WAIT } = {}) {
  let failed = 0;
  let wanted = false;  // playing, or asked to play, when it was refused
  video.addEventListener("playing", () => { failed = 0; });
  video.addEventListener("play", () => { wanted = true; });
  video.addEventListener("pause", () => { wanted = false; });
  async function refused() {
    const src = video.currentSrc;
    if (!src || !video.error || !MAYBE_REFUSED.includes(video.error.code)) return;
    const at = video.currentTime, play = wanted, rate = video.playbackRate;
    let there = false;
    while (!there && failed < tries) {
      await new Promise((go) => setTimeout(go, firstWait * (1 + failed)));
      failed += 1;
      if (video.currentSrc !== src) return;  // another film was asked for meanwhile
      const status = await filmThere(src);
      there = status === 206 || status === 200;
      if (!there && status !== 429 && status !== 0) return;  // locked, or gone: not ours
    }
    if (!there) return;
    video.addEventListener("loadedmetadata", () => {
      video.currentTime = at;
      video.playbackRate = rate;
      if (play) video.play().catch(() => {});
    }, { once: true });
    video.load();
  }
  video.addEventListener("error", refused);
  // the film in the page's HTML was asked for, and maybe refused, before
  // this module ran
  if (video.error) refused();
}
