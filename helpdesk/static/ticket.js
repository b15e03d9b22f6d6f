// Ticket page: presence heartbeat (collision notice) and canned answers.
(function () {
  "use strict";
  var HEARTBEAT_MS = 15000;
  var page = document.getElementById("ticket");
  if (!page) { return; }
  var token = document.querySelector("meta[name=csrf-token]").content;
  var notices = document.getElementById("collision");
  var reply = document.getElementById("reply-form");
  var replying = false;

  function show(list) {
    notices.replaceChildren.apply(notices, list.map(function (text) {
      var p = document.createElement("p");
      p.className = "notice";
      p.textContent = text;
      return p;
    }));
  }

  function beat() {
    var body = new URLSearchParams({ activity: replying ? "replying" : "viewing" });
    fetch(page.dataset.presenceUrl, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": token }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { show(data.notices); } })
      .catch(function () { /* try again on the next beat */ });
  }

  if (reply) {
    reply.addEventListener("input", function () {
      var wasReplying = replying;
      replying = reply.querySelector("textarea").value.trim() !== "";
      if (replying !== wasReplying) { beat(); }
    });
  }

  var select = document.getElementById("canned-select");
  var insert = document.getElementById("canned-insert");
  if (select && insert) {
    insert.addEventListener("click", function () {
      var option = select.options[select.selectedIndex];
      if (!option || !option.dataset.body) { return; }
      var area = document.getElementById(select.dataset.target);
      var start = area.selectionStart, end = area.selectionEnd;
      area.value = area.value.slice(0, start) + option.dataset.body + area.value.slice(end);
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  beat();
  window.setInterval(beat, HEARTBEAT_MS);
})();
