// Live updates for the console's exchanges page: the bus's own script, shipped in the package
// (no CDN, no build). Every few seconds it fetches the same page again, and puts the exchanges
// that arrived since at the top of the table. Without this script the page is the same, and
// reloading it shows the new exchanges: nothing depends on it.
(function () {
  "use strict";
  var table = document.querySelector("table[data-live]");
  if (!table || !window.fetch || !window.DOMParser) { return; }
  var every = Math.max(1000, parseInt(table.getAttribute("data-live"), 10) || 2000);
  var MAX_ROWS = 200;
  var body = table.tBodies[0];
  var status = document.getElementById("live-status");
  var paused = false;
  var toggle = document.getElementById("live-toggle");

  function newest() {
    var first = body.querySelector("tr[data-entry]");
    return first ? parseInt(first.getAttribute("data-entry"), 10) : 0;
  }

  function say(text) { if (status) { status.textContent = text; } }

  function merge(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.querySelector("table[data-live]");
    if (!fresh) { return 0; }
    var top = newest();
    var rows = Array.prototype.filter.call(
      fresh.tBodies[0].querySelectorAll("tr[data-entry]"),
      function (row) { return parseInt(row.getAttribute("data-entry"), 10) > top; }
    );
    if (rows.length && !body.querySelector("tr[data-entry]")) { body.innerHTML = ""; }
    for (var i = rows.length - 1; i >= 0; i--) {
      var row = document.importNode(rows[i], true);
      row.classList.add("new");
      body.insertBefore(row, body.firstChild);
    }
    var all = body.querySelectorAll("tr[data-entry]");
    for (var j = MAX_ROWS; j < all.length; j++) { all[j].remove(); }
    return rows.length;
  }

  function poll() {
    if (paused || document.hidden) { window.setTimeout(poll, every); return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (!answer.ok || answer.redirected) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        var added = merge(html);
        say("Cập nhật lúc " + new Date().toLocaleTimeString() + (added ? " · " + added + " giao dịch mới" : ""));
      })
      .catch(function (error) { say("Không cập nhật được: " + error.message); })
      .then(function () { window.setTimeout(poll, every); });
  }

  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = paused ? "Tiếp tục cập nhật" : "Tạm dừng cập nhật";
    });
  }
  say("Tự cập nhật mỗi " + every / 1000 + " giây.");
  window.setTimeout(poll, every);
})();
