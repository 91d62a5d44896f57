// School tablet: when nobody has touched it for a while, ask "Are you still there?";
// with no answer, give the tablet back to the next child.

const ACTIVITY = ["pointerdown", "keydown", "input", "wheel", "touchstart"];

export class IdleWatch {
  constructor(idleSeconds, warningSeconds, { warn, timeUp }) {
    this.usualIdleMs = idleSeconds * 1000;
    this.idleMs = this.usualIdleMs;
    this.warningMs = warningSeconds * 1000;
    this.warn = warn;
    this.timeUp = timeUp;
    this.running = false;
    this.warning = false;
    this.timer = 0;
    const poke = () => this.poke();
    for (const name of ACTIVITY) document.addEventListener(name, poke, { capture: true, passive: true });
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.restart();
  }

  stop() {
    this.running = false;
    this.warning = false;
    this.idleMs = this.usualIdleMs;
    clearTimeout(this.timer);
  }

  /** Wait this long instead (a finished check-in need not wait minutes for the next child). */
  waitFor(seconds) {
    this.idleMs = seconds * 1000;
    if (this.running && !this.warning) this.restart();
  }

  /** Someone is using the tablet. While the warning shows, only "Yes, I'm here" counts. */
  poke() {
    if (this.running && !this.warning) this.restart();
  }

  stillHere() {
    this.warning = false;
    if (this.running) this.restart();
  }

  restart() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.warning = true;
      this.warn();
      this.timer = setTimeout(() => { this.stop(); this.timeUp(); }, this.warningMs);
    }, this.idleMs);
  }
}
