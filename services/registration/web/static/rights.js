// "Mes droits": a short-lived access token from the session cookie, then the balances from the rights service.
"use strict";
(function () {
  var root = document.getElementById("rights");
  if (!root) return;
  var status = document.getElementById("rights-status");
  var euro = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
  var number = new Intl.NumberFormat("fr-FR");
  var ACCOUNTS = {
    cpf_rights: "CPF (droits acquis)",
    dif: "CPF (heures DIF)",
    abondements: "CPF (abondements)",
    cec: "CEC",
    c2p: "CPP",
    public_cpf: "CPF public"
  };

  function eur(value) { return euro.format(Number(value || 0)); }
  function plural(n, one, many) { return number.format(n) + " " + (Math.abs(n) > 1 ? many : one); }
  function hours(n) { return plural(Number(n || 0), "heure", "heures"); }
  function points(n) { return plural(Number(n || 0), "point", "points"); }
  function amount(value, unit) {
    if (unit === "EUR") return eur(value);
    if (unit === "hours") return hours(value);
    if (unit === "points") return points(value);
    return String(value) + " " + unit;
  }

  function fail(text, withLogin) {
    root.setAttribute("data-state", "error");
    status.className = "error-summary";
    status.textContent = "";
    var tag = document.createElement("span");
    tag.className = "error-tag";
    tag.textContent = "Erreur :";
    status.appendChild(tag);
    status.appendChild(document.createTextNode(" " + text + " "));
    if (withLogin) {
      var a = document.createElement("a");
      a.href = "/connexion";
      a.textContent = "Se connecter";
      status.appendChild(a);
    }
  }

  function fill(data) {
    var b = data.balances;
    var values = {
      "cpf.usable_eur": eur(b.cpf.usable_eur),
      "cpf.rights_eur": eur(b.cpf.rights_eur),
      "cpf.abondements_eur": eur(b.cpf.abondements_eur),
      "cpf.reserved_eur": eur(b.cpf.reserved_eur),
      "cpf.ceiling_eur": eur(b.cpf.ceiling_eur),
      "cec.eur": eur(b.cec.eur),
      "c2p.points": points(b.c2p.points),
      "c2p.reserved_for_training": points(b.c2p.reserved_for_training),
      "dif_hours": hours(b.dif_hours),
      "dif": hours(b.dif_hours) + ", soit " + eur(b.cpf.dif_eur),
      "legacy": hours(b.legacy_hours_converted.hours) + " converties en " + eur(b.legacy_hours_converted.eur),
      "public_hours": hours(b.public_hours)
    };
    root.querySelectorAll("[data-value]").forEach(function (cell) {
      var key = cell.getAttribute("data-value");
      if (Object.prototype.hasOwnProperty.call(values, key)) cell.textContent = values[key];
    });
    var publicRow = root.querySelector("[data-row='public']");
    if (publicRow) publicRow.hidden = !b.public_hours;

    var body = document.getElementById("history-body");
    body.textContent = "";
    (data.history || []).forEach(function (line) {
      var tr = document.createElement("tr");
      var when = new Date(line.date + "T00:00:00");
      [
        isNaN(when) ? line.date : when.toLocaleDateString("fr-FR"),
        ACCOUNTS[line.account] || line.account,
        line.label,
        amount(line.amount, line.unit)
      ].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var hasHistory = (data.history || []).length > 0;
    document.getElementById("history-table").hidden = !hasHistory;
    document.getElementById("history-empty").hidden = hasHistory;

    var note = document.getElementById("diploma-note");
    if (note && data.highest_diploma_note) {
      note.textContent = data.highest_diploma_note;
      note.hidden = false;
    }
    ["rights-summary", "rights-cpf", "rights-other", "rights-history"].forEach(function (id) {
      document.getElementById(id).hidden = false;
    });
    status.textContent = "Vos droits au " + new Date(b.as_of + "T00:00:00").toLocaleDateString("fr-FR") + ".";
    root.setAttribute("data-state", "loaded");
  }

  fetch("/api/v1/sessions/current/token", { method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (resp) {
      if (resp.status === 401) throw { expired: true };
      if (!resp.ok) throw { expired: false };
      return resp.json();
    })
    .then(function (session) {
      return fetch("/api/v1/me/rights", {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "Authorization": "Bearer " + session.access_token }
      });
    })
    .then(function (resp) {
      if (resp.status === 401) throw { expired: true };
      if (!resp.ok) throw { expired: false };
      return resp.json();
    })
    .then(fill)
    .catch(function (problem) {
      if (problem && problem.expired) fail("Votre session a expiré : reconnectez-vous.", true);
      else fail("Vos droits ne peuvent pas être affichés pour le moment. Réessayez dans un instant.", false);
    });
})();
