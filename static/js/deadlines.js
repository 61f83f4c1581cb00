// Keeps the deadline countdowns of a page ticking and their colours right (on track, warning, overdue).
// No inline script: the words come from a JSON element the page renders (json_script), so a CSP can forbid
// inline code.
(function () {
  "use strict";
  const wordsElement = document.getElementById("deadline-words");
  if (!wordsElement) return;
  const words = JSON.parse(wordsElement.textContent);

  function span(ms) {
    let minutes = Math.max(0, Math.floor(ms / 60000));
    const days = Math.floor(minutes / 1440);
    minutes -= days * 1440;
    const hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    const parts = [];
    if (days) parts.push(days + words.d);
    if (hours || days) parts.push(hours + words.h);
    if (!days) parts.push(minutes + words.m);
    return parts.join(" ");
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll(".deadline[data-due]").forEach(function (el) {
      const due = Date.parse(el.dataset.due);
      const warn = el.dataset.warn ? Date.parse(el.dataset.warn) : due;
      let state = "on_track";
      if (now >= due) state = "overdue";
      else if (now >= warn) state = "warning";
      el.classList.remove("deadline-on_track", "deadline-warning", "deadline-overdue");
      el.classList.add("deadline-" + state);
      el.textContent = state === "overdue"
        ? words.overdue.replace("%s", span(now - due))
        : words.left.replace("%s", span(due - now));
    });
  }

  setInterval(tick, 30000);
})();
