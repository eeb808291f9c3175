/* The proof-of-work check on the booking form (templates/spaces/_challenge.html), loaded as a
 * module after the ALTCHA widget (static/vendor/altcha, its "external" build: no inline styles,
 * no workers made from blobs). Here:
 * - the widget's PBKDF2 worker is this site's static file;
 * - its words come from our translations (data-strings);
 * - "send" pressed before the check is done waits for it, then sends; the "check price and
 *   rules" button never waits: the server does not ask for the check there. */
"use strict";

const ALGORITHMS = ["PBKDF2/SHA-256"];

for (const widget of document.querySelectorAll("altcha-widget[data-worker]")) {
  const workerUrl = widget.dataset.worker;
  for (const name of ALGORITHMS) {
    globalThis.$altcha.algorithms.set(name, () => new Worker(workerUrl));
  }
  const language = widget.getAttribute("language") || document.documentElement.lang || "ko";
  let strings = {};
  try {
    strings = JSON.parse(widget.dataset.strings || "{}");
  } catch (error) {
    strings = {};
  }
  globalThis.$altcha.i18n.set(language, { ...globalThis.$altcha.i18n.get("en"), ...strings });

  const form = widget.closest("form");
  if (!form) continue;
  let waiting = null; // the button pressed while the check was still running

  widget.addEventListener("verified", () => {
    if (!waiting) return;
    const button = waiting;
    waiting = null;
    form.requestSubmit(button);
  });
  widget.addEventListener("statechange", (event) => {
    const state = event.detail && event.detail.state;
    if (state === "error" || state === "expired") waiting = null; // pressed again after a retry
  });

  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (!button || button.name !== "send") return;
    if (typeof widget.getState !== "function" || widget.getState() === "verified") return;
    event.preventDefault();
    waiting = button;
    if (widget.getState() !== "verifying") widget.verify();
  });
}
