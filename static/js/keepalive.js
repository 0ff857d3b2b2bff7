/* Keeps the sign-in alive while someone works in a form on this page.
 *
 * The server signs a user out after IDLE_TIMEOUT_MINUTES without a request. Typing a
 * long form sends none, so while the tab is visible and has been typed or clicked in
 * since the last ping, this posts to the keep-alive URL every half idle period. A tab
 * left alone still times out as before. Without this script the page works the same;
 * a form saved after the timeout is kept and offered back after signing in again.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var url = script.getAttribute("data-keepalive-url");
  var idleSeconds = Number(script.getAttribute("data-idle-seconds"));

  function start() {
    var form = document.querySelector("main form[method='post'], main form[method='POST']");
    var token = document.querySelector("input[name='csrf_token']");
    if (!url || !(idleSeconds > 0) || !form || !token) { return; }

    var intervalMs = Math.max(10, Math.min(idleSeconds / 2, 300)) * 1000;
    var lastActivity = 0;
    var lastPing = Date.now();
    var timer = null;

    function markActivity() { lastActivity = Date.now(); }
    ["keydown", "input", "change", "pointerdown", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, markActivity, { capture: true, passive: true });
    });

    function showEnded(message) {
      var main = document.querySelector("main");
      if (!main || document.getElementById("session-ended-notice")) { return; }
      var notice = document.createElement("div");
      notice.id = "session-ended-notice";
      notice.className = "flash flash-warning";
      notice.setAttribute("role", "alert");
      notice.textContent = message;
      main.insertBefore(notice, main.firstChild);
    }

    function ping() {
      if (document.visibilityState !== "visible" || lastActivity <= lastPing) { return; }
      lastPing = Date.now();
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-CSRFToken": token.value }
      }).then(function (response) {
        if (response.status === 204) { return; }
        window.clearInterval(timer);
        if (response.headers.get("X-Session-Ended") === "timeout") {
          showEnded("You were signed out after a period of inactivity. What you typed is " +
            "still on this page: save as usual, sign in again, and it will be offered " +
            "back to you filled in.");
        } else if (response.status === 400 || response.status === 401) {
          // Signed out, or signed in again, in another tab: this page's token is stale.
          showEnded("This page's sign-in has ended (signed out or signed in again " +
            "elsewhere), so it can no longer save. Copy what you typed before leaving it.");
        }
      }).catch(function () { /* offline for a moment: the next ping tries again */ });
    }

    timer = window.setInterval(ping, intervalMs);
    document.addEventListener("visibilitychange", ping);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
