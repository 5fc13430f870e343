// The unlock page after too many wrong passphrases: count the wait down
// in the message and give the button back when it is over.
const message = document.getElementById("unlock-error");
const button = document.getElementById("unlock-button");
let left = Number(message?.dataset.wait || 0);

function tick() {
  if (left <= 0) {
    button.disabled = false;
    message.textContent = "You can try again now.";
    return;
  }
  message.textContent = "Too many wrong passphrases from this laptop. " +
    `You can try again in ${left} second${left === 1 ? "" : "s"}.`;
  left -= 1;
  setTimeout(tick, 1000);
}

if (left > 0) tick();
