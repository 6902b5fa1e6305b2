// The live order page: follows the order's status over Server-Sent Events, with no reload.
// The page's first render is already right; this only moves it on. It reconnects by itself
// (the browser resends the last event id; after a refusal we reconnect with it in the URL),
// shows a message while the stream is lost, and never throws into the console.
(function () {
  "use strict";
  var section = document.getElementById("order-live");
  if (!section || !window.EventSource) { return; }

  var FINAL = ["rejected", "cancelled", "shipped"];
  var CANCELLABLE = ["pending", "confirmed"];
  var streamUrl = section.getAttribute("data-stream-url");
  var statusEl = document.getElementById("order-status");
  var reasonEl = document.getElementById("order-reason");
  var totalEl = document.getElementById("order-total");
  var totalAmountEl = document.getElementById("order-total-amount");
  var connectionEl = document.getElementById("connection");
  var cancelForm = document.getElementById("cancel-form");
  var lastEventId = "";
  var source = null;
  var retryTimer = null;
  var retryDelay = 1000;
  var lostTimer = null;

  function isFinal(status) { return FINAL.indexOf(status) !== -1; }

  function streamState(state) { section.setAttribute("data-stream", state); }

  function showConnection(text) {
    connectionEl.textContent = text;
    connectionEl.hidden = !text;
  }

  function render(update) {
    if (!update || !update.status) { return; }
    section.setAttribute("data-status", update.status);
    statusEl.textContent = update.status;
    statusEl.className = "status-value status-" + update.status;
    if (update.reason) {
      reasonEl.querySelector("span").textContent = update.reason;
      reasonEl.hidden = false;
    } else if (update.status === "pending" || update.status === "confirmed" || update.status === "shipped") {
      reasonEl.hidden = true;
    }
    if (update.total_amount) {
      totalAmountEl.textContent = update.total_amount;
      totalEl.hidden = false;
    }
    if (cancelForm) { cancelForm.hidden = CANCELLABLE.indexOf(update.status) === -1; }
  }

  function onMessage(event) {
    if (event.lastEventId) { lastEventId = event.lastEventId; }
    var update = null;
    try { update = JSON.parse(event.data); } catch (ignored) { return; }
    render(update);
    if (isFinal(update.status)) { stop(); }
  }

  function stop() {
    if (source) { source.close(); source = null; }
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    if (lostTimer) { clearTimeout(lostTimer); lostTimer = null; }
    showConnection("");
    streamState("closed");
  }

  function connect() {
    retryTimer = null;
    var url = streamUrl + (lastEventId ? "?last_event_id=" + encodeURIComponent(lastEventId) : "");
    source = new EventSource(url);
    source.onopen = function () {
      streamState("open");
      retryDelay = 1000;
      if (lostTimer) { clearTimeout(lostTimer); lostTimer = null; }
      showConnection("");
    };
    source.onmessage = onMessage;
    source.addEventListener("unavailable", function () {
      showConnection("Live updates are delayed. Trying again…");
    });
    source.onerror = function () {
      streamState("lost");
      // A blip the browser mends at once shows nothing; a lasting loss shows a message.
      if (!lostTimer) {
        lostTimer = setTimeout(function () {
          showConnection("Connection lost. Reconnecting… The status shown may be out of date.");
        }, 1500);
      }
      if (source && source.readyState === EventSource.CLOSED) {
        // Refused (an error status): the browser gives up, so reconnect here, backing off.
        source.close();
        source = null;
        retryTimer = setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 15000);
      }
    };
  }

  window.addEventListener("pagehide", stop);
  if (!isFinal(section.getAttribute("data-status"))) { connect(); }
})();
