// Read-aloud: each message's mp3 from the server, one after another; the browser's own
// voice when an mp3 cannot be played.

// Tablets only let a page play sound that a tap started. Playing this silence during a tap
// lets the same audio element play the replies that arrive later.
const SILENCE = "/static/widget/silence.mp3";
// Some browsers never say when their voice has finished: move on after about this long.
const VOICE_MS_PER_WORD = 600;
const VOICE_SLACK_MS = 2500;

export class Reader {
  constructor() {
    this.audio = new Audio();
    this.queue = [];
    this.current = null;   // {audioUrl, text, onState?}
    this.turn = 0;         // bumped on every start and stop, so late events of an old one are ignored
    this.unlocked = false;
    this.watchdog = 0;
    this.quietWaiters = [];
  }

  /** Call `callback` once nothing is being read (now, if nothing is). */
  whenQuiet(callback) {
    if (this.current) this.quietWaiters.push(callback);
    else callback();
  }

  /** Call from a tap or key press, before replies arrive. */
  unlock() {
    if (this.unlocked || this.current) return;
    this.unlocked = true;
    this.audio.src = SILENCE;
    this.audio.play().catch(() => { this.unlocked = false; });
  }

  /** Read these after whatever is being read now. */
  add(items) {
    this.queue.push(...items);
    if (!this.current) this.next();
  }

  /** Read this one now, dropping the rest. */
  playNow(item) {
    this.stop();
    this.add([item]);
  }

  isPlaying(item) {
    return this.current === item;
  }

  stop() {
    this.queue = [];
    const was = this.current;
    this.current = null;
    this.turn += 1;
    clearTimeout(this.watchdog);
    this.audio.pause();
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    if (was && was.onState) was.onState(false);
  }

  next() {
    const item = this.queue.shift();
    this.current = item || null;
    if (!item) {
      const waiting = this.quietWaiters;
      this.quietWaiters = [];
      waiting.forEach((callback) => callback());
      return;
    }
    const turn = ++this.turn;
    if (item.onState) item.onState(true);
    const mine = () => turn === this.turn;
    this.audio.onended = () => { if (mine()) this.finished(item); };
    if (!item.audioUrl) {
      this.speak(item, turn);  // words with no recording (a button of the page itself)
      return;
    }
    this.audio.onerror = () => { if (mine()) this.speak(item, turn); };
    this.audio.src = item.audioUrl;
    this.audio.play().catch(() => { if (mine()) this.speak(item, turn); });
  }

  /** The mp3 failed: the browser's voice reads the words instead. */
  speak(item, turn) {
    this.audio.onended = this.audio.onerror = null;
    const voice = window.speechSynthesis;
    if (!voice || !window.SpeechSynthesisUtterance) {
      this.finished(item);
      return;
    }
    const mine = () => turn === this.turn && this.current === item;
    const words = new SpeechSynthesisUtterance(item.text);
    words.lang = "en-GB";
    words.rate = 0.9;
    const british = voice.getVoices().find((v) => v.lang === "en-GB");
    if (british) words.voice = british;
    words.onend = words.onerror = () => { if (mine()) this.finished(item); };
    voice.cancel();
    voice.speak(words);
    const wordCount = item.text.split(/\s+/).length;
    this.watchdog = setTimeout(() => { if (mine()) this.finished(item); },
      VOICE_SLACK_MS + VOICE_MS_PER_WORD * wordCount);
  }

  finished(item) {
    clearTimeout(this.watchdog);
    if (item.onState) item.onState(false);
    this.next();
  }
}
