// Intake page: keyboard-friendly category picker and the live customer panel. No inline scripts (CSP-ready).
(function () {
  "use strict";
  const form = document.getElementById("intake-form");
  if (!form) return;
  const search = document.getElementById("category-search");
  const results = document.getElementById("category-results");
  const hidden = document.getElementById("id_category");
  const chosen = document.getElementById("category-chosen");
  const severity = document.getElementById("id_severity");
  const phone = document.getElementById("id_customer_phone");
  // Fields the agent set by hand: what the page fills in itself (the category's default severity, the known
  // customer's name, tier and brand) never overwrites them. Kept in a hidden field through a form sent back.
  const edited = document.getElementById("id_agent_edited");
  const agentSet = new Set(edited ? edited.value.split(",").filter(Boolean) : []);
  function markAgentSet(name) {
    agentSet.add(name);
    if (edited) edited.value = Array.from(agentSet).join(",");
  }
  // When the agent's severity differs from the chosen category's usual one, the page says so (and keeps theirs).
  const suggestion = document.getElementById("severity-suggestion");
  let categorySeverity = "";
  function showSeveritySuggestion() {
    if (!suggestion || !severity) return;
    const differs = categorySeverity !== "" && agentSet.has("severity") && categorySeverity !== severity.value;
    const option = differs ? severity.querySelector('option[value="' + categorySeverity + '"]') : null;
    suggestion.hidden = option === null;
    suggestion.textContent = option ? suggestion.dataset.template.replace("{severity}", option.textContent) : "";
  }
  if (severity) {
    severity.addEventListener("change", function () {
      markAgentSet("severity");
      showSeveritySuggestion();
    });
  }
  let active = -1;
  // Enter pressed while the answer to the latest keystrokes is still on its way: choose when it lands.
  let enterPending = false;
  let phoneTimer = null;

  function refreshPanel() {
    document.body.dispatchEvent(new Event("refresh-panel"));
  }

  function options() {
    return Array.from(results.querySelectorAll(".picker-option"));
  }

  function highlight(index) {
    const list = options();
    list.forEach((el, i) => el.classList.toggle("active", i === index));
    active = index;
    if (list[index]) list[index].scrollIntoView({ block: "nearest" });
    search.setAttribute("aria-expanded", list.length ? "true" : "false");
  }

  function choose(option) {
    hidden.value = option.dataset.id;
    chosen.textContent = option.dataset.label + " (" + option.dataset.code + ")";
    categorySeverity = option.dataset.severity || "";
    if (severity && categorySeverity && !agentSet.has("severity")) severity.value = categorySeverity;
    showSeveritySuggestion();
    results.innerHTML = "";
    search.value = "";
    search.setAttribute("aria-expanded", "false");
    refreshPanel();
    const description = document.getElementById("id_description");
    if (description) description.focus();
  }

  search.addEventListener("keydown", function (event) {
    const list = options();
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(Math.min(active + 1, list.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!resultsAreCurrent()) {
        enterPending = true;
        return;
      }
      const pick = list[active >= 0 ? active : 0];
      if (pick) choose(pick);
    } else if (event.key === "Escape") {
      results.innerHTML = "";
    }
  });

  results.addEventListener("click", function (event) {
    const option = event.target.closest(".picker-option");
    if (option) choose(option);
  });

  function resultsAreCurrent() {
    const answer = results.querySelector(".picker-answer");
    return answer !== null && answer.dataset.query === search.value.trim();
  }

  search.addEventListener("input", function () {
    enterPending = false;
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== results) return;
    highlight(options().length ? 0 : -1);
    if (enterPending && resultsAreCurrent()) {
      enterPending = false;
      if (options().length) choose(options()[0]);
    }
  });

  phone.addEventListener("input", function () {
    clearTimeout(phoneTimer);
    phoneTimer = setTimeout(refreshPanel, 350);
  });

  // A known fault in an area within the agent's region: the agent asks the customer, and joins with one click
  // (again to undo). The choice is kept while the panel refreshes, and dropped when the fault is no longer offered.
  // The panel says which category it was drawn for: an answer to an older request (the category has changed since)
  // must not drop the agent's choice; a fresh request is on its way.
  function panelIsCurrent() {
    const state = document.querySelector("#customer-panel .panel-state");
    return state === null || state.dataset.category === document.getElementById("id_category").value;
  }

  function markJoined() {
    const hidden = document.getElementById("id_incident");
    if (!hidden) return;
    let offered = false;
    document.querySelectorAll(".join-incident").forEach(function (button) {
      const chosen = hidden.value !== "" && button.dataset.incident === hidden.value;
      offered = offered || chosen;
      button.classList.toggle("primary", chosen);
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
      button.textContent = chosen ? button.dataset.joined : button.dataset.join;
    });
    if (!offered && panelIsCurrent()) hidden.value = "";
  }

  // A recognised number fills the customer's name, tier and brand (the agent may correct them); a field the
  // agent has touched keeps what they put, and what was filled for another number is replaced or cleared.
  const customerFields = { customer_name: "name", customer_tier: "tier", customer_brand: "brand" };
  const filledByPage = new Set();
  Object.keys(customerFields).forEach(function (name) {
    const field = document.getElementById("id_" + name);
    if (!field) return;
    if (field.value !== "" && !agentSet.has(name)) filledByPage.add(name);
    field.addEventListener(field.tagName === "SELECT" ? "change" : "input", function () {
      filledByPage.delete(name);
      markAgentSet(name);
    });
  });

  // The panel echoes the number it was drawn for as the reader may see it: masked (138****8000) for a reader
  // who sees numbers masked, so the typed number is compared masked too.
  function maskPhone(value) {
    return value.length < 7 ? "*".repeat(value.length) : value.slice(0, 3) + "****" + value.slice(-4);
  }

  function panelPhoneIsCurrent(state) {
    const typed = phone.value.trim();
    return state.dataset.phone === (state.dataset.phoneMasked ? maskPhone(typed) : typed);
  }

  // The known customer's record as the panel showed it (null: a new customer, or one the agent may not see).
  let knownRecord = null;

  function fillKnownCustomer() {
    const state = document.querySelector("#customer-panel .panel-state");
    // Drawn for a number the agent has since changed: the answer for the current one is on its way.
    if (state === null || !panelPhoneIsCurrent(state)) return;
    const known = document.querySelector("#customer-panel .known-customer");
    knownRecord = known ? Object.assign({}, known.dataset) : null;
    Object.entries(customerFields).forEach(function ([name, key]) {
      const field = document.getElementById("id_" + name);
      if (!field || agentSet.has(name)) return;
      const value = known ? known.dataset[key] || "" : "";
      if (value !== "") {
        field.value = value;
        filledByPage.add(name);
      } else if (filledByPage.has(name)) {
        field.value = "";
        filledByPage.delete(name);
      }
    });
    offerRecordUpdate();
  }

  // 更新客户资料: offered when what is typed differs from the known customer's record; unticked, the order keeps
  // the typed values and the record stays as it is. A box the server refused stays on screen with its reason.
  const updateBox = document.getElementById("id_update_customer");
  const updateField = document.getElementById("field-update_customer");
  function offerRecordUpdate() {
    if (!updateBox || !updateField) return;
    const differs = knownRecord !== null && Object.entries(customerFields).some(function ([name, key]) {
      const field = document.getElementById("id_" + name);
      return field !== null && field.value !== "" && field.value !== (knownRecord[key] || "");
    });
    const refused = updateField.classList.contains("has-error");
    updateField.hidden = !differs && !refused;
    if (!differs && !refused) updateBox.checked = false;
  }
  Object.keys(customerFields).forEach(function (name) {
    const field = document.getElementById("id_" + name);
    if (field) field.addEventListener(field.tagName === "SELECT" ? "change" : "input", offerRecordUpdate);
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "customer-panel") return;
    if (!panelIsCurrent()) refreshPanel();
    markJoined();
    fillKnownCustomer();
  });

  // The description suggests articles and similar cases: the panel follows what is typed, after a pause.
  const description = document.getElementById("id_description");
  let descriptionTimer = null;
  if (description) {
    description.addEventListener("input", function () {
      clearTimeout(descriptionTimer);
      descriptionTimer = setTimeout(refreshPanel, 600);
    });
  }

  document.addEventListener("click", function (event) {
    const article = event.target && event.target.closest ? event.target.closest(".use-article") : null;
    if (article) {
      // Answer with a knowledge-base article: its text becomes the answer, and the version is kept with the order.
      const hidden = document.getElementById("id_article_version");
      if (hidden) hidden.value = article.dataset.version;
      document.querySelectorAll(".use-article").forEach(function (button) {
        button.classList.toggle("primary", button === article);
      });
      const answer = document.getElementById("id_answer");
      if (answer) {
        answer.value = article.dataset.answer;
        const box = document.getElementById("id_resolve_on_spot");
        if (box) box.checked = true;
        answer.focus();
      }
      return;
    }
    const join = event.target && event.target.closest ? event.target.closest(".join-incident") : null;
    if (join) {
      const hidden = document.getElementById("id_incident");
      if (hidden) hidden.value = hidden.value === join.dataset.incident ? "" : join.dataset.incident;
      markJoined();
      return;
    }
    const bulletin = event.target && event.target.closest ? event.target.closest(".use-bulletin") : null;
    if (bulletin) {
      // Answer from a bulletin: the customer is told what the department announced, and the order closes now.
      const answer = document.getElementById("id_answer");
      const hidden = document.getElementById("id_bulletin");
      const box = document.getElementById("id_resolve_on_spot");
      if (answer) answer.value = bulletin.dataset.answer;
      if (hidden) hidden.value = bulletin.dataset.bulletin;
      if (box) box.checked = true;
      if (answer) answer.focus();
      return;
    }
    if (event.target && event.target.id === "use-standard-answer") {
      const text = document.getElementById("standard-answer-text");
      const answer = document.getElementById("id_answer");
      if (text && answer) {
        answer.value = text.innerText;
        const box = document.getElementById("id_resolve_on_spot");
        if (box) box.checked = true;
        answer.focus();
      }
    }
  });

  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
