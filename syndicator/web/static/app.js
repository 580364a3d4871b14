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

  // A box whose content is wider or taller than it (a table on a tablet, a long notice) scrolls
  // inside the page: it becomes a named, focusable region so the keyboard can scroll it too
  // (WCAG 2.1.1). A box that fits stays out of the Tab order.
  function markScrollRegions() {
    document.querySelectorAll("[data-scroll-label]").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      if (scrolls) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", el.getAttribute("data-scroll-label") + " (scrolls)");
      } else {
        el.removeAttribute("tabindex");
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
      }
    });
  }
  var pending = false;
  function soon() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; markScrollRegions(); });
  }
  markScrollRegions();
  window.addEventListener("resize", soon);
  document.addEventListener("toggle", soon, true);  // a <details> opened or closed

  // Ask before destructive posts (the server still requires a reason and a CSRF token).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Copy a newly created token to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });
})();
