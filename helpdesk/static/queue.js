// Queue page: refresh the rows every 30 s without a full reload; "select all" checkbox.
(function () {
  "use strict";
  var REFRESH_MS = 30000;
  var container = document.getElementById("queue");
  if (!container) { return; }

  function somethingTicked() {
    return container.querySelector("input[name=ticket_ids]:checked") !== null;
  }

  function refresh() {
    if (document.hidden || somethingTicked()) { return; }
    fetch(container.dataset.refreshUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null && !somethingTicked()) { container.innerHTML = html; } })
      .catch(function () { /* keep the rows we have; the next tick tries again */ });
  }

  container.addEventListener("change", function (event) {
    if (!event.target.classList.contains("select-all")) { return; }
    container.querySelectorAll("input[name=ticket_ids]").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
  window.setInterval(refresh, REFRESH_MS);
})();
