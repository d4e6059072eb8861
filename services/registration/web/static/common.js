// Shared behaviour of every page: focus the error summary, show-password toggles (the button's name says
// what it will do: « Afficher » or « Masquer », so no aria-pressed that would contradict it).
"use strict";
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
      // A summary link moves the focus to its field (not only the scroll position).
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        var target = link && document.getElementById(link.getAttribute("href").slice(1));
        if (!target) return;
        event.preventDefault();
        target.focus();
        target.scrollIntoView({ block: "center" });
      });
    }

    document.querySelectorAll("[data-toggle-password]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-toggle-password"));
      if (!input) return;
      var label = button.querySelector(".toggle-label");
      button.hidden = false;
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        if (label) label.textContent = show ? "Masquer" : "Afficher";
      });
    });
  });
})();
