// Keeps the deadline countdowns of a page ticking and their colours right (on track, warning, overdue).
// No inline script: the words come from a JSON element the page renders (json_script), so a CSP can forbid
// inline code.
(function () {
  "use strict";
  const wordsElement = document.getElementById("deadline-words");
  if (!wordsElement) return;
  const words = JSON.parse(wordsElement.textContent);

  // The same format as the server (workflow/countdown.py): the two largest units, zero units left out; time
  // left rounded up to the minute, time overdue down; under a minute overdue is "just overdue".
  function unit(key, n) {
    return words[key].replace("%(n)s", String(n));
  }

  function span(ms, roundUp) {
    let minutes = Math.max(0, roundUp ? Math.ceil(ms / 60000) : Math.floor(ms / 60000));
    const days = Math.floor(minutes / 1440);
    minutes -= days * 1440;
    const hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    let units;
    if (days) units = [["d", days], ["h", hours]];
    else if (hours) units = [["h", hours], ["m", minutes]];
    else units = [["m", minutes]];
    const parts = units.filter(function (u) { return u[1]; }).map(function (u) { return unit(u[0], u[1]); });
    return parts.length ? parts.join(" ") : unit("m", 0);
  }

  function text(now, due) {
    if (now >= due) {
      if (now - due < 60000) return words.just_overdue;
      return words.overdue.replace("%(time)s", span(now - due, false));
    }
    return words.left.replace("%(time)s", span(due - now, true));
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
      el.textContent = text(now, due);
    });
  }

  tick();
  setInterval(tick, 30000);
})();
