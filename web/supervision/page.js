// The supervision export's page: one file a supervisor opens in any modern
// browser, offline (a file:// page is a secure context, so WebCrypto is
// there). It holds the sealed export (an age file, base64, byte for byte
// what `age -d` opens) and this script, bundled with age-encryption at
// build time. Asked for the one-off passphrase (never a receiver's own
// key: a page altered on its way could take it), it decrypts in memory, plays the clips with their
// captions, the guider's notes and the review's reflections, and seals the
// supervisor's comments to the box's own key for the guider to import.
import { Decrypter, Encrypter } from "age-encryption";

const $ = (id) => document.getElementById(id);
const say = (text) => { $("message").textContent = text; };

// the sealed export, from the page's own text: base64 in a data block
function sealedBytes() {
  const text = $("sealed").textContent.replace(/\s+/g, "");
  const bytes = new Uint8Array((text.length / 4) * 3);
  let length = 0;
  // in slices, a multiple of 4 characters each: atob of 100 MB at once is slow
  for (let at = 0; at < text.length; at += 1 << 20) {
    const part = atob(text.slice(at, at + (1 << 20)));
    for (let i = 0; i < part.length; i += 1) bytes[length + i] = part.charCodeAt(i);
    length += part.length;
  }
  return bytes.subarray(0, length);
}

// A tar archive's files (ustar, with pax headers for long names), by name.
function untar(bytes) {
  const files = new Map();
  const text = (from, size) => new TextDecoder().decode(bytes.subarray(from, from + size)).replace(/\0.*$/s, "");
  let at = 0;
  let longName = null;
  while (at + 512 <= bytes.length && bytes[at] !== 0) {
    const size = parseInt(text(at + 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(bytes[at + 156] || 48);
    const name = longName || text(at, 100);
    const body = bytes.subarray(at + 512, at + 512 + size);
    if (type === "x") {
      const path = new TextDecoder().decode(body).match(/\d+ path=([^\n]*)\n/);
      longName = path ? path[1] : null;
    } else {
      if (type === "0") files.set(name, body);
      longName = null;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function element(tag, text, className) {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = text;
  if (className) made.className = className;
  return made;
}

function showClip(manifest, clip, body) {
  const item = element("article", undefined, "clip");
  item.dataset.clip = clip.id;
  item.append(element("h2", `Cycle ${clip.cycle} · ${clip.name || "clip"}`));
  const video = element("video");
  video.controls = true;
  video.src = URL.createObjectURL(new Blob([body], { type: "video/mp4" }));
  item.append(video);
  if (clip.caption) item.append(element("p", clip.caption, "caption"));
  for (const goal of clip.goals) item.append(element("p", `Goal ${goal.number}: ${goal.words}`, "goal"));
  const notes = element("ul", undefined, "notes");
  for (const note of clip.notes) {
    notes.append(element("li", `${note.at} · ${note.tags.join(", ")}${note.tags.length ? " · " : ""}${note.words}`));
  }
  if (clip.notes.length) item.append(element("h3", "The guider's notes"), notes);
  const reflections = manifest.reflections[String(clip.cycle)];
  if (reflections) item.append(element("h3", "What the practitioner said in the review"), element("blockquote", reflections));
  const label = element("label", "Your comment on this clip");
  const comment = element("textarea", undefined, "comment");
  comment.rows = 3;
  label.append(comment);
  item.append(label);
  return item;
}

function download(bytes, name, type) {
  const link = element("a");
  link.href = URL.createObjectURL(new Blob([bytes], { type }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}

async function open(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) { say("Type the passphrase you were given."); return; }
  say("Opening… (checking a passphrase takes a few seconds)");
  const decrypter = new Decrypter();
  decrypter.addPassphrase(key);
  let files;
  try {
    files = untar(await decrypter.decrypt(sealedBytes()));
  } catch (error) {
    say(`It does not open: ${error.message}. Check the passphrase and type it again.`);
    return;
  }
  const manifest = JSON.parse(new TextDecoder().decode(files.get("manifest.json")));
  $("unlock").hidden = true;
  if (manifest.question) $("question").textContent = `Helping question: ${manifest.question}`;
  $("clips").replaceChildren(...manifest.clips.map((clip) => showClip(manifest, clip, files.get(clip.file))));
  $("comments").hidden = false;
  say(`${manifest.clips.length} clips, ${manifest.purpose}. Nothing has left this computer.`);
}

async function sealComments() {
  const comments = [...document.querySelectorAll("article.clip")].map((item) => ({
    clip: item.dataset.clip, words: item.querySelector("textarea").value,
  })).filter((c) => c.words.trim());
  const general = $("general").value;
  if (!comments.length && !general.trim()) { say("Write a comment first."); return; }
  const encrypter = new Encrypter();
  encrypter.addRecipient($("box").dataset.recipient);
  const sealed = await encrypter.encrypt(JSON.stringify({
    kind: "vigbox supervision comments", export: $("box").dataset.export, comments, general,
  }));
  download(sealed, `vigbox-comments-${$("box").dataset.export}.age`, "application/octet-stream");
  say("Your comments are sealed to the box: send the file to the guider, who imports it on the box.");
}

$("unlock").addEventListener("submit", open);
$("seal-comments").addEventListener("click", sealComments);
$("save-sealed").addEventListener("click", () => {
  download(sealedBytes(), `${$("box").dataset.name}.tar.age`, "application/octet-stream");
});
