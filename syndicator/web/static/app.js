// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Relative ages ("3m ago") stay true while a page is left open.
  function relative(iso) {
    var then = Date.parse(iso);
    if (isNaN(then)) return null;
    var seconds = Math.round((Date.now() - then) / 1000);
    var future = seconds < 0;
    var s = Math.abs(seconds);
    var text = s >= 86400 ? Math.floor(s / 86400) + "d" : s >= 3600 ? Math.floor(s / 3600) + "h"
      : s >= 60 ? Math.floor(s / 60) + "m" : s + "s";
    return future ? "in " + text : text + " ago";
  }
  function refreshAges() {
    document.querySelectorAll("[data-ago]").forEach(function (el) {
      var text = relative(el.getAttribute("data-ago"));
      if (text) el.textContent = text;
    });
  }
  setInterval(refreshAges, 30000);

  // Ask before destructive posts (the server still requires a reason and a CSRF token).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Copy a newly created token to the clipboard.
  document.addEventListener("click", function (event) {
    var id = event.target.getAttribute && event.target.getAttribute("data-copy");
    if (!id || !navigator.clipboard) return;
    var source = document.getElementById(id);
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      event.target.textContent = "Copied";
    });
  });
})();
