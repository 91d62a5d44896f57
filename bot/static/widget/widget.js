// The chat a young person uses: type a code, then answer by tapping or typing.
// Talks only to the chat API. The token and the chat live in this page's memory and
// nowhere else, so closing the page, or the tablet going back to the code page, leaves
// nothing of one child for the next. Every word is put on the page as text, never as HTML.

import * as settings from "./settings.js";
import { IdleWatch } from "./idle.js";
import { Scanner, rove, setStop } from "./keys.js";
import { Reader } from "./speech.js";

const WORDS = {
  notSent: "Sorry, that did not send. Tap to try again.",
  noConnection: "I could not connect. Tap to try again.",
  codeMissing: "Please type your code.",
  sayMissing: "Please type something, or tap a button.",
  tryAgain: "Try again",
  typeCode: "Type my code",
  writing: "Heard is writing.",
  listen: "Listen",
  stop: "Stop",
  youSaid: "You said: ",
  change: "Change: ",
  codeTitle: "Type your code – Heard",
  chatTitle: "Your check-in – Heard",
};
const START = "/start_checkin";
const OVER = new Set(["end", "stopped", "paused"]);  // kinds after which the bot asks nothing more
const SPEAKER = "/symbols/1F50A.svg";
const PENCIL = "/symbols/270F.svg";
const LISTEN_KEY = "L";  // reads the question again, while an answer has focus
const WIDE_LABEL = 28;  // characters: longer button words get a whole row
const WRITING_DELAY_MS = 300;  // quick replies show no "writing" dots at all
const SCROLL_MARGIN = 12;  // px between the top of the screen (or the progress) and new messages

const page = document.body.dataset;
const tablet = page.mode === "tablet";
// Shown on another site by its launcher (/widget/embed.js), which closes its dialog, and this
// page with it, when told. The message is only this fixed word, never anything of the chat.
const framed = window.parent !== window;
const CLOSE_MESSAGE = "heard:close";
const codeLength = Number(page.codeLength);
const ui = Object.fromEntries([
  "code-page", "code-title", "code-form", "code-input", "code-error", "chat-page", "progress", "progress-label",
  "progress-area", "progress-areas", "log", "typing", "problem", "problem-text", "problem-action", "answers",
  "say-form", "say-input", "finished", "finish", "open-settings", "settings", "idle-warning", "still-here",
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), document.getElementById(id)]));

const reader = new Reader();
const scanner = new Scanner({
  // Not "Say it my own way": a switch cannot type, and would be left in the text box.
  targets: () => [ui.problemAction, ...ui.answers.querySelectorAll("button:not(.own-way)"), ui.finish]
    .filter((b) => !b.closest("[hidden]")),
  say: (button) => reader.playNow(button.heard || { audioUrl: null, text: button.innerText.trim() }),
  isFree: (event) => !ui.chatPage.hidden && !document.querySelector("dialog[open]") && event.target !== ui.sayInput,
  whenQuiet: (callback) => reader.whenQuiet(callback),
});
let prefs = settings.load();
applySettings();

function applySettings() {
  settings.apply(prefs);
  scanner.configure(prefs.switches, prefs.speed);
}

// Everything about one child's check-in. Replaced whole when the page goes back to the code,
// so a reply that arrives late for the last child is dropped, not shown to the next.
function newCheckin() {
  return { token: null, busy: false, starting: false, preferTyping: false, shown: new Set(), asking: null,
           listenNow: null };
}
let checkin = newCheckin();

const idle = tablet ? new IdleWatch(Number(page.idleSeconds), Number(page.warningSeconds), {
  warn: () => { closeDialog(ui.settings); ui.idleWarning.showModal(); },
  timeUp: () => backToCode(),
}) : null;

// ---- small helpers ------------------------------------------------------------------------

function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function symbol(url, className) {
  const img = make("img", className);
  img.src = url;
  img.alt = "";  // the words beside it say what it means
  return img;
}

function newMessageId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);  // works on plain http too, unlike randomUUID
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function closeDialog(dialog) {
  if (dialog && dialog.open) dialog.close();
}

async function post(path, body, token) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body), cache: "no-store" });
  } catch {
    return { ok: false, status: 0, data: {} };
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    // a proxy's HTML error page: the kind words below are used instead
  }
  return { ok: response.ok, status: response.status, data };
}

// ---- the code page ------------------------------------------------------------------------

function bareCode(typed) {
  return typed.toUpperCase().replace(/[^A-Z0-9]/g, "");
}

function pressKey(key) {
  let code = bareCode(ui.codeInput.value);
  if (key === "delete") code = code.slice(0, -1);
  else if (code.length < codeLength) code += key;
  const half = codeLength / 2;
  ui.codeInput.value = code.length > half ? `${code.slice(0, half)}-${code.slice(half)}` : code;
  ui.codeError.textContent = "";
}

async function start(code) {
  if (checkin.starting) return;
  const mine = checkin;
  mine.starting = true;
  if (prefs.readAloud) reader.unlock();
  const { ok, data } = await post("/api/sessions", { invite_code: code });
  mine.starting = false;
  if (mine !== checkin) return;
  if (!ok) {
    ui.codeError.textContent = data.error || WORDS.noConnection;
    ui.codeInput.focus();
    return;
  }
  checkin.token = data.token;
  openChat();
  if (data.error) {
    // Signed in, but the chat engine could not be reached: ask it to start again.
    const retry = { text: START, id: newMessageId() };
    showProblem(data.error, WORDS.tryAgain, () => deliver(retry));
    return;
  }
  receive(data);
}

function openChat() {
  ui.codePage.hidden = true;
  ui.chatPage.hidden = false;
  document.title = WORDS.chatTitle;
  if (idle) idle.start();
}

/** Back to an empty code page: the next person sees nothing of the last. */
function backToCode() {
  checkin = newCheckin();
  reader.stop();
  if (idle) idle.stop();
  closeDialog(ui.settings);
  closeDialog(ui.idleWarning);
  for (const part of [ui.log, ui.answers, ui.typing, ui.progressAreas]) part.replaceChildren();
  ui.progress.hidden = true;
  ui.answers.hidden = true;
  hideProblem();
  ui.sayInput.value = "";
  ui.codeInput.value = "";
  ui.codeError.textContent = "";
  ui.finished.hidden = true;
  ui.sayForm.hidden = false;
  if (tablet) {
    prefs = settings.forget();  // the next child starts with the usual look
    applySettings();
  }
  ui.chatPage.hidden = true;
  ui.codePage.hidden = false;
  document.title = WORDS.codeTitle;
  ui.codeTitle.focus();
}

// ---- sending ------------------------------------------------------------------------------

/** The child's turn: `text` goes to the bot, `shown` is what their bubble says. */
function send(text, shown, shownSymbol) {
  if (checkin.busy || !checkin.token) return;
  if (prefs.readAloud) reader.unlock();
  reader.stop();
  addMine(shown, shownSymbol);
  showAnswers(null);
  deliver({ text, id: newMessageId() });
}

/** Send one message; a retry sends the same id, so the server keeps it once. */
async function deliver(message) {
  const mine = checkin;
  mine.busy = true;
  hideProblem();
  const writing = setTimeout(showWriting, WRITING_DELAY_MS);
  const { ok, status, data } = await post(
    "/api/sessions/current/messages", { text: message.text, client_message_id: message.id }, mine.token);
  clearTimeout(writing);
  if (mine !== checkin) return;
  ui.typing.replaceChildren();
  mine.busy = false;
  if (ok) {
    receive(data);
  } else if (status === 401) {
    showProblem(data.error || WORDS.notSent, WORDS.typeCode, backToCode);
  } else if (status === 0 || status === 429 || status >= 500) {
    // Only the server says whether the words are saved (its error says so); else we cannot know.
    showProblem(data.error || WORDS.notSent, WORDS.tryAgain, () => deliver(message));
  } else {
    // The words could not be taken (too long, empty): nothing to retry, answer again.
    showProblem(data.error || WORDS.sayMissing);
    showAnswers(mine.asking);
    focusAfterTurn(null);
  }
}

function showWriting() {
  // Announced once by the status region; the dots are only for eyes.
  const dots = make("span", "dots");
  dots.setAttribute("aria-hidden", "true");
  dots.append(make("span"), make("span"), make("span"));
  ui.typing.replaceChildren(make("span", "visually-hidden", WORDS.writing), dots);
}

function showProblem(words, actionWords, action) {
  ui.problemText.textContent = words;
  ui.problem.hidden = false;
  const button = ui.problemAction;
  button.hidden = !action;
  if (action) {
    button.querySelector("span").textContent = actionWords;
    button.onclick = () => { hideProblem(); action(); };
    button.focus();
    scanner.restart();
  }
}

function hideProblem() {
  ui.problem.hidden = true;
  ui.problemText.textContent = "";
}

/** What the child's choice means for the page itself (see framework/choices.yml). */
function noteChoice(payload) {
  if (!payload.startsWith("/choose{")) return;
  let choice;
  try {
    choice = JSON.parse(payload.slice("/choose".length));
  } catch {
    return;
  }
  if (choice.input_mode) checkin.preferTyping = choice.input_mode === "type";
  if (choice.read_aloud) {
    prefs = { ...prefs, readAloud: choice.read_aloud === "on" };
    settings.save(prefs);
    if (prefs.readAloud) reader.unlock();
  }
}

// ---- what the bot says --------------------------------------------------------------------

function receive(data) {
  const fresh = (data.messages || []).filter((m) => !checkin.shown.has(m.id));
  if (fresh.length) retireChanges();
  const added = fresh.map(addBotMessage);
  setStop(ui.log, ".line-change");
  const asking = [...fresh].reverse().find((m) => m.buttons && m.buttons.length);
  showProgress(data.progress);
  const over = fresh.some((m) => OVER.has(m.kind));
  checkin.asking = over || !asking ? null : asking;
  const askingItem = asking ? added[fresh.indexOf(asking)] : added[added.length - 1];
  // The read-back's buttons stay at the foot of the screen while the child reads it from the top.
  ui.answers.classList.toggle("pinned", fresh.some((m) => m.kind === "readback"));
  if (askingItem) listenStop(askingItem);
  showAnswers(checkin.asking);
  ui.sayForm.hidden = over;
  ui.finished.hidden = !over;
  if (over && idle) idle.waitFor(Number(page.endSeconds));
  if (prefs.readAloud) readAloud(fresh, added);
  focusAfterTurn(added[0] || null);
  scanner.restart();
}

/** The current question's Listen is the log's one Tab stop, and the L key's. */
function listenStop(item) {
  for (const old of ui.log.querySelectorAll("[aria-keyshortcuts]")) old.removeAttribute("aria-keyshortcuts");
  item.listen.setAttribute("aria-keyshortcuts", LISTEN_KEY);
  setStop(ui.log, ".listen", item.listen);
  checkin.listenNow = item;
}

function addBotMessage(message) {
  checkin.shown.add(message.id);
  const item = make("div", `msg bot kind-${message.kind}`);
  item.dataset.messageId = message.id;
  if (message.symbol_url) item.append(symbol(message.symbol_url, "msg-symbol"));
  const words = make("div", "msg-body");
  words.append(message.lines ? readbackLines(message.lines) : make("p", "msg-text", message.text));
  const listen = make("button", "listen");
  listen.type = "button";
  listen.tabIndex = -1;  // the log's Listen buttons are one Tab stop (setStop in receive)
  const listenWord = make("span", null, WORDS.listen);
  listen.append(symbol(SPEAKER), listenWord);
  const heard = {
    audioUrl: message.audio_url,
    text: message.text,
    onState(playing) {
      listen.dataset.playing = String(playing);
      listenWord.textContent = playing ? WORDS.stop : WORDS.listen;
    },
  };
  listen.addEventListener("click", () => {
    if (reader.isPlaying(heard)) reader.stop();
    else reader.playNow(heard);
  });
  words.append(listen);
  item.append(words);
  item.heard = heard;
  item.listen = listen;
  ui.log.append(item);
  return item;
}

/** A read-back's lines, each with the symbol of the answer given; an answer's line is a
 * button that asks that question again (one tap to change it) until the next turn. */
function readbackLines(lines) {
  const list = make("ul", "msg-text readback-lines");
  list.append(...lines.map((line) => {
    const item = make("li");
    const words = [symbol(line.symbol_url, "line-symbol"), make("span", null, line.text)];
    if (!line.change) {
      item.append(...words);
      return item;
    }
    const change = make("button", "line-change");
    change.type = "button";
    change.tabIndex = -1;  // one Tab stop for all the lines (setStop in receive)
    change.append(make("span", "visually-hidden", WORDS.change), ...words, symbol(PENCIL, "change-mark"));
    change.addEventListener("click", () => send(line.change, WORDS.change + line.text, PENCIL));
    item.append(change);
    return item;
  }));
  return list;
}

/** An older read-back's lines no longer change anything: plain lines again. */
function retireChanges() {
  for (const change of ui.log.querySelectorAll(".line-change")) {
    change.querySelectorAll(".visually-hidden, .change-mark").forEach((part) => part.remove());
    change.replaceWith(...change.childNodes);
  }
}

function addMine(words, symbolUrl) {
  const item = make("div", "msg me");
  if (symbolUrl) item.append(symbol(symbolUrl, "msg-symbol"));
  const text = make("p", "msg-text");
  text.append(make("span", "visually-hidden", WORDS.youSaid), document.createTextNode(words));
  item.append(text);
  ui.log.append(item);
}

/** The answers to the message that asks (null: none): its buttons, or its comment cards. */
function showAnswers(asking) {
  const buttons = asking ? asking.buttons : [];
  ui.answers.replaceChildren(...(asking && asking.board ? cardBoard(asking.board, buttons) : buttons.map(answerButton)));
  ui.answers.hidden = buttons.length === 0;
  setStop(ui.answers, "button");
}

function choiceButton(label, symbolUrl, audioUrl) {
  const button = make("button", "answer");
  button.type = "button";
  button.heard = { audioUrl, text: label };  // said when a switch highlights it
  if (label.length > WIDE_LABEL) button.classList.add("wide");
  if (symbolUrl) button.append(symbol(symbolUrl));
  button.append(make("span", null, label));
  return button;
}

function answerButton(choice) {
  const button = choiceButton(choice.label, choice.symbol_url, choice.audio_url);
  button.addEventListener("click", () => {
    if (checkin.busy) return;
    checkin.preferTyping = false;
    noteChoice(choice.payload);
    send(choice.payload, choice.label, choice.symbol_url);
  });
  return button;
}

/** Cards to tap on and off, then one button that says "No more" until a card is chosen and
 * "Send my cards" after, in the same place; and a way to the text box. */
function cardBoard(board, buttons) {
  const cards = board.cards.map((card) => {
    const button = choiceButton(card.label, card.symbol_url, card.audio_url);
    button.classList.add("card");
    button.setAttribute("aria-pressed", "false");
    button.card = card;
    button.addEventListener("click", () => {
      button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
      showFinish();
    });
    return button;
  });
  const chosen = () => cards.filter((b) => b.getAttribute("aria-pressed") === "true").map((b) => b.card);
  const ownWay = choiceButton(board.own_way.label, board.own_way.symbol_url, board.own_way.audio_url);
  ownWay.classList.add("wide", "own-way");
  ownWay.addEventListener("click", () => {
    checkin.preferTyping = true;
    ui.sayInput.focus();
  });
  const noMore = buttons[0];
  const finish = choiceButton(noMore.label, noMore.symbol_url, noMore.audio_url);
  finish.classList.add("wide");
  function showFinish() {
    const now = chosen().length > 0 ? board.send : noMore;
    finish.querySelector("img").src = now.symbol_url;
    finish.querySelector("span").textContent = now.label;
    finish.heard = { audioUrl: now.audio_url, text: now.label };
  }
  finish.addEventListener("click", () => {
    if (checkin.busy) return;
    checkin.preferTyping = false;
    const picked = chosen();
    if (!picked.length) {
      send(noMore.payload, noMore.label, noMore.symbol_url);
      return;
    }
    const payload = board.payload + JSON.stringify({ cards: picked.map((card) => card.id).join(" ") });
    send(payload, picked.map((card) => card.label).join(", "));
  });
  return [...cards, ownWay, finish];
}

function readAloud(messages, items) {
  const queue = items.map((item) => item.heard);
  // A child who cannot read the buttons hears them too, after the question.
  const asking = [...messages].reverse().find((m) => m.buttons && m.buttons.length);
  if (asking) {
    const said = [...(asking.board ? [...asking.board.cards, asking.board.own_way] : []), ...asking.buttons];
    queue.push(...said.map((b) => ({ audioUrl: b.audio_url, text: b.label })));
  }
  reader.add(queue);
}

function showProgress(progress) {
  ui.progress.hidden = !progress;
  if (!progress) return;
  ui.progressLabel.textContent = progress.label;
  const now = progress.areas.find((area) => area.current);
  ui.progressArea.textContent = now ? ` · ${now.title}` : "";
  ui.progressAreas.replaceChildren(...progress.areas.map((area) => {
    const state = area.done ? "done" : area.current ? "now" : "to do";
    const item = make("li", `area${area.done ? " done" : ""}${area.current ? " current" : ""}`);
    if (area.current) item.setAttribute("aria-current", "step");
    item.append(symbol(area.symbol_url), make("span", "visually-hidden", `${area.title}: ${state}`));
    return item;
  }));
}

/** Clear focus after each turn: the first new answer, or the text box for a child who types. */
function focusAfterTurn(firstNew) {
  let target;
  if (!ui.finished.hidden) target = ui.finish;
  else if (checkin.preferTyping || ui.answers.hidden) target = ui.sayInput;
  else target = ui.answers.querySelector("button");
  const pinned = ui.answers.classList.contains("pinned");
  target.focus({ preventScroll: pinned });
  if (!firstNew) return;
  // Show the new messages from their start when they fit on screen with the answer, and
  // always when the answers are pinned to the foot of the screen.
  const above = stickyHeight() + SCROLL_MARGIN;
  const top = firstNew.getBoundingClientRect().top;
  const bottom = target.getBoundingClientRect().bottom;
  if (pinned || (top < above && bottom - top <= window.innerHeight - above)) window.scrollBy(0, top - above);
}

function stickyHeight() {
  return getComputedStyle(ui.progress).position === "sticky" && !ui.progress.hidden
    ? ui.progress.getBoundingClientRect().height : 0;
}

// ---- wiring -------------------------------------------------------------------------------

ui.codeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const code = ui.codeInput.value.trim();
  if (!code) {
    ui.codeError.textContent = WORDS.codeMissing;
    ui.codeInput.focus();
    return;
  }
  start(code);
});

ui.codeForm.addEventListener("click", (event) => {
  const key = event.target.closest(".pad-key");
  if (key) pressKey(key.dataset.key);
});

ui.codeInput.addEventListener("input", () => {
  ui.codeError.textContent = "";
  if (idle && ui.codeInput.value) idle.start();  // a half-typed code is not left for the next child
});

// A slip's QR code opens this page with ?code=…: the code waits in the box for the young person
// to start (never started for them), and leaves the address bar so history does not keep it.
const linkedCode = new URLSearchParams(location.search).get("code");
if (linkedCode) {
  ui.codeInput.value = linkedCode.slice(0, codeLength + 1);
  ui.codeInput.dispatchEvent(new Event("input"));
  const url = new URL(location.href);
  url.searchParams.delete("code");
  history.replaceState(history.state, "", url);
}

ui.sayForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.sayInput.value.trim();
  if (!text) {
    showProblem(WORDS.sayMissing);
    ui.sayInput.focus();
    return;
  }
  if (checkin.busy) return;
  checkin.preferTyping = true;
  ui.sayInput.value = "";
  send(text, text);
});

ui.finish.addEventListener("click", () => {
  backToCode();
  if (framed) closeFrame();
});

function closeFrame() {
  window.parent.postMessage(CLOSE_MESSAGE, "*");  // any host may know the chat wants closing
}

if (framed) {
  // Escape closes the launcher's dialog, as it would if focus were in the host page; not while
  // one of this page's own dialogs (Settings) is open: Escape closes that.
  window.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]")) closeFrame();
  }, true);
}

rove(ui.answers, "button");
rove(ui.log, ".listen");
rove(ui.log, ".line-change");
ui.answers.addEventListener("keydown", (event) => {
  if (event.key.toUpperCase() !== LISTEN_KEY || event.altKey || event.ctrlKey || event.metaKey) return;
  if (checkin.listenNow) checkin.listenNow.listen.click();
});

ui.openSettings.addEventListener("click", () => {
  settings.fill(ui.settings.querySelector("form"), prefs);
  ui.settings.showModal();
});

ui.settings.addEventListener("change", (event) => {
  const wasReading = prefs.readAloud;
  prefs = settings.read(event.currentTarget.querySelector("form"));
  applySettings();
  settings.save(prefs);
  if (prefs.readAloud) reader.unlock();
  else if (wasReading) reader.stop();
});

if (ui.stillHere) {
  ui.stillHere.addEventListener("click", () => { closeDialog(ui.idleWarning); idle.stillHere(); });
  ui.idleWarning.addEventListener("cancel", () => idle.stillHere());  // Escape also means "I'm here"
}

document.documentElement.classList.add("js");
