// The security check: pictures as keyboard-usable buttons, the audio alternative, answers and renewal.
// Answers go to the captcha service on the same origin; the answer itself never reaches this page.
"use strict";
(function () {
  var root = document.getElementById("captcha");
  if (!root) return;
  var requestId = root.getAttribute("data-request-id");
  var API = "/api/v1/captcha";
  var state = {
    challengeId: root.getAttribute("data-challenge-id") || "",
    kind: root.getAttribute("data-kind") || "image",
    busy: false,
    verified: false
  };
  var el = {
    loading: document.getElementById("captcha-loading"),
    choices: document.getElementById("captcha-choices"),
    instruction: document.getElementById("captcha-instruction"),
    word: document.getElementById("captcha-word"),
    pictures: document.getElementById("captcha-pictures"),
    attempts: document.getElementById("captcha-attempts"),
    feedback: document.getElementById("captcha-feedback"),
    audio: document.getElementById("captcha-audio"),
    audioLink: document.getElementById("captcha-audio-link"),
    typedForm: document.getElementById("captcha-typed-form"),
    typed: document.getElementById("captcha-typed"),
    typedLabel: document.getElementById("captcha-typed-label"),
    renew: document.getElementById("captcha-renew")
  };

  function say(text, ok, extra) {
    // Emptied first so that the same message twice is announced twice (role="alert").
    el.feedback.textContent = "";
    el.feedback.classList.toggle("ok", !!ok);
    window.setTimeout(function () {
      el.feedback.textContent = text;
      if (extra) {
        el.feedback.appendChild(document.createTextNode(" "));
        el.feedback.appendChild(extra);
      }
    }, 50);
  }

  function restartLink() {
    var a = document.createElement("a");
    a.href = "/inscription";
    a.textContent = "Recommencer mon inscription";
    return a;
  }

  function attemptsText(n) {
    return "Essais restants : " + n;
  }

  function buttons() {
    return Array.prototype.slice.call(el.pictures.querySelectorAll("button.picture"));
  }

  function setEnabled(enabled) {
    buttons().forEach(function (b) { b.disabled = !enabled; });
    el.typedForm.querySelector("button").disabled = !enabled;
    el.typed.disabled = !enabled;
  }

  function render(ch) {
    state.challengeId = ch.challenge_id;
    state.kind = ch.kind || "image";
    root.setAttribute("data-challenge-id", ch.challenge_id);
    el.pictures.textContent = "";
    var pictures = ch.pictures || [];
    if (state.kind === "text") {
      el.instruction.textContent = ch.instruction || "Saisissez les caractères affichés dans l'image";
      el.word.textContent = "";
      el.typedLabel.textContent = "Caractères affichés ou entendus";
      pictures.forEach(function (p) {
        var li = document.createElement("li");
        var img = document.createElement("img");
        img.src = p.url;
        img.width = 240;
        img.height = 80;
        img.alt = "Caractères à recopier (si vous ne pouvez pas les lire, utilisez la version sonore)";
        li.appendChild(img);
        el.pictures.appendChild(li);
      });
    } else {
      el.instruction.textContent = "Cliquez sur l'image";
      el.word.textContent = ch.prompt || "";
      el.typedLabel.textContent = "Mot entendu";
      pictures.forEach(function (p, i) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "picture";
        button.setAttribute("data-choice", p.id);
        var img = document.createElement("img");
        img.src = p.url;
        img.width = 112;
        img.height = 112;
        img.alt = "Image " + (i + 1) + " sur " + pictures.length;
        button.appendChild(img);
        li.appendChild(button);
        el.pictures.appendChild(li);
      });
    }
    el.audio.src = ch.audio_url;
    if (el.audioLink) el.audioLink.href = ch.audio_url;
    el.attempts.textContent = attemptsText(ch.attempts_left);
    el.typed.value = "";
    el.loading.hidden = true;
    el.choices.hidden = false;
    setEnabled(ch.status === undefined || ch.status === "open");
  }

  function errorMessage(body, fallback) {
    if (body && body.message) return body.message;
    if (body && body.error && body.error.message) return body.error.message;
    return fallback;
  }

  function send(method, url, payload) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: payload ? { "Content-Type": "application/json", "Accept": "application/json" } : { "Accept": "application/json" },
      body: payload ? JSON.stringify(payload) : undefined
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return { status: resp.status, body: body };
      });
    });
  }

  var waited = 0;
  function load() {
    send("GET", API + "/requests/" + encodeURIComponent(requestId) + "/challenge").then(function (r) {
      if (r.status === 200) {
        var rendered = buttons().length > 0 || el.pictures.querySelector("img");
        if (r.body.challenge_id !== state.challengeId || !rendered || el.choices.hidden) render(r.body);
        else el.attempts.textContent = attemptsText(r.body.attempts_left);
        if (r.body.status && r.body.status !== "open") {
          setEnabled(false);
          say(errorMessage(null, "Ce contrôle de sécurité n'est plus valable. Renouvelez le contrôle de sécurité."));
        }
      } else if (r.status === 404 && waited < 40) {
        waited++;
        window.setTimeout(load, 750);
      } else {
        el.loading.textContent = "Le contrôle de sécurité n'est pas disponible pour le moment. " +
          "Rechargez la page dans un instant.";
      }
    }).catch(function () {
      el.loading.textContent = "La connexion a été interrompue. Rechargez la page.";
    });
  }

  function answer(payload, pressed) {
    if (state.busy || !state.challengeId || state.verified) return;
    state.busy = true;
    payload.request_id = requestId;
    buttons().forEach(function (b) { b.setAttribute("aria-pressed", b === pressed ? "true" : "false"); });
    setEnabled(false);
    send("POST", API + "/challenges/" + encodeURIComponent(state.challengeId) + "/answers", payload).then(function (r) {
      state.busy = false;
      if (r.status === 200) {
        state.verified = true;
        say("Contrôle de sécurité réussi. Passage à l'étape suivante…", true);
        window.setTimeout(function () {
          window.location.assign("/inscription/" + encodeURIComponent(requestId) + "/courriel?controle=reussi");
        }, 400);
        return;
      }
      var left = r.body && typeof r.body.attempts_left === "number" ? r.body.attempts_left : null;
      if (left !== null) el.attempts.textContent = attemptsText(left);
      if (r.status === 422 && left !== 0 && r.body.reason !== "attempts_exhausted") {
        var text = errorMessage(r.body, "Ce n'est pas la bonne réponse. Essayez encore.");
        if (left !== null && r.body.reason === "wrong_answer") {
          text += " Il vous reste " + left + " essai" + (left > 1 ? "s" : "") + ".";
        }
        say(text);
        setEnabled(true);
        if (pressed) pressed.focus();
        else el.typed.focus();
        return;
      }
      if (r.status === 429) {
        say(errorMessage(r.body, "Trop de tentatives. Réessayez dans quelques minutes."));
        setEnabled(true);
        return;
      }
      var failed = r.body && (r.body.reason === "request_failed" || r.body.reason === "renewal_cap_exceeded");
      if (failed) {
        say(errorMessage(r.body, "Votre demande d'inscription n'a pas abouti."), false, restartLink());
        el.renew.disabled = true;
        return;
      }
      // Dead challenge (attempts exhausted, expired, superseded): only a renewal helps.
      if (r.status === 422 && left === 0) {
        say("Ce n'est pas la bonne réponse, et vous avez épuisé vos essais. Renouvelez le contrôle de sécurité.");
      } else {
        say(errorMessage(r.body, "Ce contrôle de sécurité n'est plus valable. Renouvelez le contrôle de sécurité."));
      }
      el.renew.focus();
    }).catch(function () {
      state.busy = false;
      setEnabled(true);
      say("La connexion a été interrompue. Réessayez.");
    });
  }

  function renew() {
    if (state.busy || state.verified) return;
    state.busy = true;
    el.renew.disabled = true;
    send("POST", API + "/requests/" + encodeURIComponent(requestId) + "/renewals").then(function (r) {
      state.busy = false;
      el.renew.disabled = false;
      if (r.status === 201) {
        render(r.body);
        var word = r.body.kind === "text" ? "saisissez les caractères affichés" : "cliquez sur l'image " + r.body.prompt;
        say("Nouveau contrôle de sécurité : " + word + ".", true);
        var first = buttons()[0];
        if (first) first.focus();
        else el.typed.focus();
        return;
      }
      var message = errorMessage(r.body, "Le contrôle de sécurité n'a pas pu être renouvelé. Réessayez.");
      var code = r.body && r.body.error ? r.body.error.code : "";
      if (code === "renewal_cap_exceeded" || code === "request_failed") {
        el.renew.disabled = true;
        setEnabled(false);
        say(message, false, restartLink());
      } else {
        say(message);
      }
    }).catch(function () {
      state.busy = false;
      el.renew.disabled = false;
      say("La connexion a été interrompue. Réessayez.");
    });
  }

  el.pictures.addEventListener("click", function (event) {
    var button = event.target.closest("button.picture");
    if (button && !button.disabled) answer({ choice_id: button.getAttribute("data-choice") }, button);
  });
  // Arrow keys move between pictures, like a group of radio buttons; Enter or Space chooses.
  el.pictures.addEventListener("keydown", function (event) {
    var list = buttons();
    var index = list.indexOf(document.activeElement);
    if (index < 0) return;
    var next = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") next = list[(index + 1) % list.length];
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = list[(index - 1 + list.length) % list.length];
    else if (event.key === "Home") next = list[0];
    else if (event.key === "End") next = list[list.length - 1];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
  el.typedForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = el.typed.value.trim();
    if (!typed) {
      say("Saisissez le mot entendu, ou cliquez sur une image.");
      el.typed.focus();
      return;
    }
    answer({ typed: typed }, null);
  });
  el.renew.addEventListener("click", renew);
  load();
})();
