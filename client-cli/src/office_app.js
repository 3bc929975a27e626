// The office app's one convenience script: every minute, and when its tab is shown again, it
// asks how many new messages the background sync brought, and shows the count in the page
// title and a notice, without a reload. Without it the count shows on the next page opened. When the app has locked, it
// reloads the page, which then asks for the passphrase.
"use strict";
(function () {
  var notice = document.getElementById("live-notice");
  var title = document.title.replace(/^\(\d+\) /, "");
  function show(status) {
    var count = Number(status.unseen) || 0;
    document.title = count > 0 ? "(" + count + ") " + title : title;
    if (notice) {
      notice.textContent = count > 0 ? notice.getAttribute("data-template").replace("{count}", String(count)) : "";
    }
  }
  function check() {
    fetch("/status", { credentials: "same-origin", redirect: "manual", cache: "no-store" })
      .then(function (response) {
        if (response.type === "opaqueredirect") {
          window.location.reload();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (status) {
        if (status) {
          show(status);
        }
      })
      .catch(function () {});
  }
  window.setInterval(check, 60000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      check();
    }
  });
})();
