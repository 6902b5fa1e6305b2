// Staff console overview: poll the console's status endpoint every 2 s and swap in the
// panels it renders. A failed poll shows a message and the next one tries again; nothing
// is thrown, so nothing reaches the browser console.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script.getAttribute("data-url");
  var INTERVAL_MS = 2000;
  var panels = document.getElementById("live-status");
  var updated = document.getElementById("live-updated");
  var problem = document.getElementById("live-problem");

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = false;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") !== 0) {
          showProblem("Your session has ended: reload the page to sign in again.");
          return null;
        }
        return response.json();
      })
      .then(function (body) {
        if (body === null) {
          return false; // signed out: polling again would not help
        }
        panels.innerHTML = body.html; // rendered and escaped by the server's template
        problem.hidden = true;
        updated.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
        return true;
      })
      .catch(function () {
        showProblem("Live status lost: the console cannot be reached. Retrying…");
        return true;
      })
      .then(function (again) {
        if (again) {
          window.setTimeout(poll, INTERVAL_MS);
        }
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
