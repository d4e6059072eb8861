// Live hints on the sign-up and password forms. Only hints: the server's checks are the truth.
"use strict";
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  var RULES = {
    length: function (v) { return v.length >= 8; },
    lower: function (v) { return /\p{Ll}/u.test(v); },
    upper: function (v) { return /\p{Lu}/u.test(v); },
    digit: function (v) { return /\p{Nd}/u.test(v); }
  };
  function strength(value, met) {
    if (!value) return "vide";
    var classes = 0;
    if (/\p{Ll}/u.test(value)) classes++;
    if (/\p{Lu}/u.test(value)) classes++;
    if (/\p{Nd}/u.test(value)) classes++;
    if (/[^\p{L}\p{Nd}]/u.test(value)) classes++;
    if (met < 4) return "faible (les règles ne sont pas toutes respectées)";
    if (value.length >= 12 && classes >= 3) return "fort";
    return "moyen";
  }
  ready(function () {
    document.querySelectorAll("[data-password-rules]").forEach(function (input) {
      var box = document.getElementById(input.getAttribute("data-password-rules"));
      if (!box) return;
      box.hidden = false;
      var items = box.querySelectorAll("[data-rule]");
      var out = box.querySelector(".strength-value");
      var previous = "";
      function update() {
        var value = input.value, met = 0;
        items.forEach(function (item) {
          var ok = RULES[item.getAttribute("data-rule")](value);
          if (ok) met++;
          item.classList.toggle("ok", ok);
          item.querySelector(".rule-state").textContent = ok ? "✓ respecté" : "✗ non respecté";
        });
        var label = strength(value, met);
        if (label !== previous) { out.textContent = label; previous = label; }
      }
      input.addEventListener("input", update);
      update();
    });

    var nir = document.getElementById("nir");
    var count = document.getElementById("nir-count");
    if (nir && count) {
      var show = function () {
        var n = nir.value.replace(/\s/g, "").length;
        count.hidden = n === 0;
        count.textContent = n + " caractère" + (n > 1 ? "s" : "") + " saisi" + (n > 1 ? "s" : "") +
          " sur 13" + (n === 13 ? " ✓" : "");
      };
      nir.addEventListener("input", show);
      show();
    }
  });
})();
