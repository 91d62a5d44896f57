// How the young person wants the page to look and sound. Kept for this browser tab only
// (sessionStorage), and never any words of the chat.

const KEY = "heard-settings";
const CHOICES = {
  size: ["normal", "big", "bigger"],
  tint: ["white", "cream", "blue", "green", "pink", "yellow"],
  switches: ["off", "one", "two"],  // switch access (keys.js)
  speed: ["slow", "medium", "fast"],  // how fast one switch's highlight moves
};
const SWITCHES = ["easyFont", "contrast", "readAloud"];

export const DEFAULTS = Object.freeze({
  size: "normal", tint: "white", easyFont: false, contrast: false, readAloud: false, switches: "off", speed: "medium",
});

/** Only known values survive: whatever is stored is treated as untrusted. */
function clean(raw) {
  const settings = { ...DEFAULTS };
  if (raw && typeof raw === "object") {
    for (const [name, allowed] of Object.entries(CHOICES)) {
      if (allowed.includes(raw[name])) settings[name] = raw[name];
    }
    for (const name of SWITCHES) {
      if (typeof raw[name] === "boolean") settings[name] = raw[name];
    }
  }
  return settings;
}

export function load() {
  try {
    return clean(JSON.parse(sessionStorage.getItem(KEY) || "{}"));
  } catch {
    return { ...DEFAULTS };  // storage blocked or damaged: the usual look
  }
}

export function save(settings) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(clean(settings)));
  } catch {
    // Storage blocked (private mode): the settings still work until the page closes.
  }
}

export function forget() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
  return { ...DEFAULTS };
}

export function apply(settings) {
  const root = document.documentElement;
  root.dataset.size = settings.size;
  root.dataset.tint = settings.tint;
  root.classList.toggle("easy-font", settings.easyFont);
  root.classList.toggle("contrast", settings.contrast);
}

/** Show the settings in the form's controls. */
export function fill(form, settings) {
  for (const name of Object.keys(CHOICES)) {
    for (const radio of form.elements[name]) radio.checked = radio.value === settings[name];
  }
  for (const name of SWITCHES) form.elements[name].checked = settings[name];
}

/** The settings the form's controls show now. */
export function read(form) {
  const raw = {};
  for (const name of Object.keys(CHOICES)) raw[name] = form.elements[name].value;
  for (const name of SWITCHES) raw[name] = form.elements[name].checked;
  return clean(raw);
}
