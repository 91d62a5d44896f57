// A calm keyboard and switch access.
//
// Keyboard: a group of buttons (the answers, the messages' Listen buttons) is one Tab stop;
// the arrow keys, Home and End move inside it (a "roving tabindex").
//
// Switches (Grid 3 style scanning, chosen in the settings):
// - two switches: the first (Space) moves the highlight to the next answer and says its name,
//   the second (Enter) chooses it; holding the first down also chooses;
// - one switch: the highlight moves by itself at the speed the child chose, and a press chooses.

const NEXT = new Set(["ArrowDown", "ArrowRight"]);
const BACK = new Set(["ArrowUp", "ArrowLeft"]);
export const LONG_PRESS_MS = 800;
export const SCAN_MS = { slow: 3000, medium: 2000, fast: 1200 };
const SCAN_ROUNDS = 3;  // the highlight stops going round after this; a press starts it again

function shown(buttons) {
  return buttons.filter((b) => b.getClientRects().length && !b.disabled);
}

/** Make `container`'s buttons one Tab stop, `stop` (or the first) being it. */
export function setStop(container, selector, stop) {
  const buttons = [...container.querySelectorAll(selector)];
  const chosen = buttons.includes(stop) ? stop : buttons[0];
  for (const button of buttons) button.tabIndex = button === chosen ? 0 : -1;
}

/** Arrow keys, Home and End move between `container`'s buttons. */
export function rove(container, selector) {
  container.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const buttons = shown([...container.querySelectorAll(selector)]);
    const at = buttons.indexOf(document.activeElement);
    if (at < 0 || !buttons.length) return;
    let to;
    if (NEXT.has(event.key)) to = (at + 1) % buttons.length;
    else if (BACK.has(event.key)) to = (at - 1 + buttons.length) % buttons.length;
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = buttons.length - 1;
    else return;
    event.preventDefault();
    setStop(container, selector, buttons[to]);
    buttons[to].focus();
  });
}

export class Scanner {
  /**
   * targets(): the buttons to step through, in order; say(button): speak its name.
   * isFree(): false while something else has the keys (a dialog is open, a text box has focus).
   */
  constructor({ targets, say, isFree, whenQuiet }) {
    this.targets = targets;
    this.say = say;
    this.isFree = isFree;
    this.whenQuiet = whenQuiet;  // (callback): once nothing is being read aloud
    this.turn = 0;
    this.mode = "off";
    this.scanMs = SCAN_MS.medium;
    this.current = null;
    this.timer = 0;
    this.steps = 0;
    this.pressedAt = null;
    document.addEventListener("keydown", (event) => this.keyDown(event), true);
    document.addEventListener("keyup", (event) => this.keyUp(event), true);
  }

  configure(mode, speed) {
    this.mode = mode;
    this.scanMs = SCAN_MS[speed] || SCAN_MS.medium;
    this.stopTimer();
    document.documentElement.classList.toggle("switch-access", mode !== "off");
    if (mode === "off") this.highlight(null);
  }

  get on() {
    return this.mode !== "off";
  }

  /** New answers are on screen: highlight the first; once the question has been read
   * aloud (if it is), say its name, and with one switch start moving. */
  restart() {
    if (!this.on) return;
    this.stopTimer();
    const turn = ++this.turn;
    const first = shown(this.targets())[0] || null;
    this.highlight(first);
    if (!first) return;
    this.whenQuiet(() => {
      if (turn !== this.turn || this.current !== first) return;
      this.say(first);
      if (this.mode === "one") this.startTimer();
    });
  }

  step() {
    this.turn += 1;  // the child has moved on: nothing waiting to speak for the old highlight
    const buttons = shown(this.targets());
    if (!buttons.length) return;
    const at = buttons.indexOf(this.current);
    const next = buttons[(at + 1) % buttons.length];
    this.highlight(next);
    this.say(next);
  }

  choose() {
    const button = this.current;
    if (!button || !button.isConnected) {
      this.restart();
      return;
    }
    button.click();
    // A card stays on screen after a tap: the highlight stays on it.
    if (button.isConnected && this.mode === "one") this.startTimer();
  }

  highlight(button) {
    if (this.current) this.current.classList.remove("scan-here");
    this.current = button;
    if (!button) return;
    button.classList.add("scan-here");
    button.focus();
  }

  startTimer() {
    this.stopTimer();
    this.steps = 0;
    const rounds = SCAN_ROUNDS * Math.max(shown(this.targets()).length, 1);
    this.timer = setInterval(() => {
      this.steps += 1;
      if (this.steps > rounds) this.stopTimer();
      else this.step();
    }, this.scanMs);
  }

  stopTimer() {
    clearInterval(this.timer);
    this.timer = 0;
  }

  ours(event) {
    return this.on && (event.key === " " || event.key === "Enter") && !event.altKey && !event.ctrlKey
      && !event.metaKey && this.isFree(event);
  }

  keyDown(event) {
    if (!this.ours(event)) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.repeat) return;
    if (this.mode === "one") {
      if (this.timer || !this.current) this.choose();
      else this.restart();  // the highlight had stopped: start it going again
    } else if (event.key === "Enter") {
      this.choose();
    } else {
      this.pressedAt = event.timeStamp;
    }
  }

  keyUp(event) {
    if (!this.ours(event)) return;
    event.preventDefault();  // a button would take a released Space as a click
    event.stopPropagation();
    if (this.mode !== "two" || event.key !== " " || this.pressedAt === null) return;
    const held = event.timeStamp - this.pressedAt;
    this.pressedAt = null;
    if (held >= LONG_PRESS_MS) this.choose();
    else this.step();
  }
}
