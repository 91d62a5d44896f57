// Heard on a school's or council's own page. Put this where the button should be, in <body>:
//
//   <script src="https://heard.example/widget/embed.js" defer></script>
//
// and add the page's address to HEARD_EMBED_ORIGINS (README: "The chat on your own site").
// It adds one button. Pressing it opens Heard's chat page in a frame, in a dialog with a Close
// button. The chat runs wholly inside the frame, which is Heard's own page: no code, token or word
// of the child's is ever in this page (its DOM, storage or address). Closing the dialog (Close,
// Escape, or Close at the chat's end) removes the frame, and the chat with it, and puts focus back
// on the button.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) return;
  const heard = new URL(script.src).origin;
  const label = (script.dataset.label || "").trim() || "Have your say";
  const CLOSE_MESSAGE = "heard:close";  // what the chat page posts for Escape or its own Close

  // Inside a shadow root, so neither page's styles reach the other's. A constructed style sheet
  // is not inline style, so a host page with a strict Content-Security-Policy needs no change
  // for it.
  const STYLE = `
    :host { all: initial; display: inline-block; }
    button { font: 600 1.125rem/1.2 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; cursor: pointer; }
    button img { width: 2rem; height: 2rem; flex: none; }
    .launcher {
      display: inline-flex; align-items: center; gap: 0.5rem; min-height: 3rem; min-width: 3rem;
      padding: 0.5rem 1.25rem 0.5rem 0.75rem; border: 2px solid #1d4f91; border-radius: 1.5rem;
      color: #fff; background: #1d4f91;
    }
    .launcher:hover { background: #163d70; }
    /* Seen on any page: a yellow ring next to the button, then a black one outside it. */
    button:focus-visible { outline: 3px solid #0b0c0c; outline-offset: 3px; box-shadow: 0 0 0 3px #ffdd00; }
    .panel {
      box-sizing: border-box; width: min(30rem, 100vw); height: min(46rem, 100vh); max-width: 100vw;
      max-height: 100vh; padding: 0; border: 0; border-radius: 0.75rem; overflow: hidden; color: #0b0c0c;
      background: #fff;
    }
    .panel[open] { display: flex; flex-direction: column; }
    .panel::backdrop { background: rgb(11 12 12 / 0.6); }
    .bar {
      display: flex; align-items: center; justify-content: space-between; gap: 0.5rem;
      padding: 0.375rem 0.5rem 0.375rem 1rem; color: #fff; background: #1d4f91;
    }
    .title { margin: 0; font: 600 1.125rem/1.2 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; }
    .close {
      display: inline-flex; align-items: center; gap: 0.375rem; min-height: 2.75rem; min-width: 2.75rem;
      padding: 0.25rem 0.75rem; border: 2px solid #fff; border-radius: 0.5rem; color: #0b0c0c; background: #fff;
    }
    .close img { width: 1.5rem; height: 1.5rem; }
    iframe { flex: 1; width: 100%; min-height: 0; border: 0; }
    @media (max-width: 30rem), (max-height: 30rem) {
      .panel { width: 100vw; height: 100vh; border-radius: 0; }
    }
  `;

  function make(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text) element.textContent = text;
    return element;
  }

  function symbol(code) {
    const img = make("img");
    img.src = `${heard}/symbols/${code}.svg`;
    img.alt = "";  // the button's words name it
    return img;
  }

  function build() {
    const host = make("div");
    host.dataset.heard = "launcher";
    const root = host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];

    const launcher = make("button", "launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.append(symbol("1F4AC"), make("span", null, label));  // speech balloon

    const panel = make("dialog", "panel");
    panel.setAttribute("aria-labelledby", "heard-title");
    const bar = make("div", "bar");
    const title = make("h2", "title", label);
    title.id = "heard-title";
    const close = make("button", "close");
    close.type = "button";
    close.append(symbol("274C"), make("span", null, "Close"));  // cross mark
    bar.append(title, close);
    panel.append(bar);

    let frame = null;
    launcher.addEventListener("click", () => {
      frame = make("iframe");
      frame.title = "Heard chat";
      frame.src = `${heard}/`;
      frame.referrerPolicy = "no-referrer";
      frame.allow = "autoplay";  // read-aloud
      panel.append(frame);
      panel.showModal();  // focus moves to Close, the dialog's first control; Tab goes on into the chat
    });
    close.addEventListener("click", () => panel.close());
    // Escape in this page closes the dialog by itself; in the chat, the chat page says so.
    window.addEventListener("message", (event) => {
      if (frame && event.source === frame.contentWindow && event.origin === heard && event.data === CLOSE_MESSAGE) {
        panel.close();
      }
    });
    panel.addEventListener("close", () => {
      if (frame) frame.remove();  // the chat ends with its frame: the next person starts afresh
      frame = null;
      launcher.focus();
    });

    root.append(launcher, panel);
    return host;
  }

  function place() {
    const host = build();
    if (script.isConnected && script.closest("body")) script.after(host);
    else document.body.append(host);
  }

  if (document.body) place();
  else document.addEventListener("DOMContentLoaded", place, { once: true });
})();
