"""The holder's web pages (issue 6): server-rendered French pages over the same use cases as the JSON API.

Every form posts to a handler here, which calls :class:`~services.registration.use_cases.Registration`
exactly as the API does; the domain's validation is the truth and its French messages are shown next to
their field and in a summary at the top. JavaScript (``web/static``) only adds live hints, the
show-password toggles, the security check's clicks (answered by the captcha service on the same
origin) and the balances fetched from the rights service.

Security: CSRF protection on every form (a random cookie and, in the form, its HMAC under a key
derived from the holder-id secret, so that every replica agrees); the session cookie is ``HttpOnly``,
``SameSite=Lax`` and ``Secure`` when served over https; personal pages are ``no-store``; the
security headers (strict CSP without inline code) are set by ``main.py`` on every response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.registration.app.api import ACTIVATION_ERRORS, SESSION_COOKIE
from services.registration.domain.account import (
    AlreadyActive,
    CaptchaPending,
    RequestExpired,
    RequestRejected,
    RequestStatus,
    ResendLimitReached,
    ResendTooSoon,
)
from services.registration.domain.address import AddressForm
from services.registration.domain.cgu import CGU_REQUIRED
from services.registration.domain.diploma import Diploma
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.signup import SignupForm
from services.registration.use_cases import Registration
from services.registration.use_cases.ports import LockBusy
from services.registration.use_cases.queries import RequestView
from services.registration.use_cases.sessions import LoginAccepted
from services.registration.use_cases.signup import SignupAccepted, SignupThrottled

log = logging.getLogger("registration.web")

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
CSRF_FIELD = "csrf_token"
CGU_TOKEN_FIELD = "cgu_token"  # noqa: S105 - a form field name, not a secret
CGU_TOKEN_LIFETIME_S = 2 * 3600
MAX_FIELD_CHARS = 1000
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
NO_STORE = {"Cache-Control": "no-store"}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

ADDRESS_PARTS = tuple(AddressForm.__dataclass_fields__)
SIGNUP_TEXT_FIELDS = (
    "nir",
    "nir_key",
    "first_name",
    "birth_name",
    "phone_landline",
    "phone_mobile",
    "email",
    "email_confirmation",
    *(f"address.{part}" for part in ADDRESS_PARTS),
    "highest_diploma",
)
PASSWORD_FIELDS = frozenset({"password", "password_confirmation"})
REPETITION_CHOICES = (("", "Aucun"), ("bis", "bis"), ("ter", "ter"), ("quater", "quater"), ("quinquies", "quinquies"))
STREET_TYPES = (
    "Rue",
    "Avenue",
    "Boulevard",
    "Place",
    "Chemin",
    "Impasse",
    "Allée",
    "Route",
    "Quai",
    "Cours",
    "Square",
    "Résidence",
    "Lotissement",
    "Hameau",
)
STEPS = ("Valider les CGU", "S'inscrire", "Contrôle de sécurité", "Confirmer mon courriel")

CSRF_FAILED = (
    "Pour votre sécurité, ce formulaire a expiré. Vérifiez vos informations puis validez à nouveau "
    "(les mots de passe sont à ressaisir)."
)
UNKNOWN_REQUEST = "Cette demande d'inscription est inconnue ou a expiré. Vous pouvez recommencer votre inscription."
SESSION_EXPIRED = "Votre session a expiré : reconnectez-vous."
RESET_SENT = "Si un compte existe pour ce numéro, un courriel de réinitialisation vient d'être envoyé."


def field_id(name: str) -> str:
    """The HTML id of a form field: ``address.postcode`` → ``address-postcode``."""
    return name.replace(".", "-").replace("_", "-")


@dataclass
class FormState:
    """What a form page shows: the values typed (never passwords) and the errors, per field and in order."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str | None, str]] = field(default_factory=list)  # (field id or None, message)

    def add(self, name: str | None, message: str, known: frozenset[str] | None = None) -> None:
        if name is not None and (known is None or name in known):
            self.errors.setdefault(name, []).append(message)
            self.summary.append((field_id(name), message))
        else:
            self.summary.append((None, message))

    def add_all(self, errors: list[FieldError], known: frozenset[str]) -> None:
        for error in errors:
            self.add(error.field, error.message, known)

    @property
    def has_errors(self) -> bool:
        return bool(self.summary)


class Signer:
    """HMAC-SHA256 under a key derived from a service secret; a purpose keeps signatures apart."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"mcf-registration-web-v1", hashlib.sha256).digest()

    def sign(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def verify(self, purpose: str, value: str, signature: str) -> bool:
        return bool(value) and hmac.compare_digest(self.sign(purpose, value), signature)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def _load_static() -> dict[str, tuple[bytes, str]]:
    files: dict[str, tuple[bytes, str]] = {}
    for path in STATIC.iterdir() if STATIC.is_dir() else ():
        if path.is_file() and path.suffix in STATIC_TYPES:
            files[path.name] = (path.read_bytes(), STATIC_TYPES[path.suffix])
    return files


def router(reg: Registration, *, secure_cookies: bool, cgu_text: str) -> APIRouter:
    web = APIRouter(include_in_schema=False)
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(field_id=field_id, steps=STEPS)
    signer = Signer(reg.page_key)
    csrf_cookie = "__Host-mcf_csrf" if secure_cookies else "mcf_csrf"
    static_files = _load_static()

    # --- helpers ----------------------------------------------------------------------------------
    def csrf_pair(request: Request) -> tuple[str, bool]:
        """The browser's CSRF cookie value, and whether it must be (re)set on this response."""
        current = request.cookies.get(csrf_cookie, "")
        if re.fullmatch(r"[A-Za-z0-9_-]{32,64}", current):
            return current, False
        return secrets.token_urlsafe(32), True

    def csrf_ok(request: Request, form: Any) -> bool:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if origin.split("://", 1)[-1] != host:
                return False
        cookie = request.cookies.get(csrf_cookie, "")
        return signer.verify("csrf", cookie, _text(form, CSRF_FIELD))

    async def logged_in_holder(request: Request) -> str | None:
        sid = request.cookies.get(SESSION_COOKIE, "")
        if not sid or len(sid) > 200:
            return None
        try:
            return await reg.login.holder_of(sid)
        except Exception:  # Redis hiccup: the page still renders, as logged out
            log.warning("session lookup failed", exc_info=True)
            return None

    async def render(
        request: Request,
        template: str,
        status_code: int = 200,
        *,
        private: bool = False,
        **context: Any,
    ) -> HTMLResponse:
        token, fresh = csrf_pair(request)
        if "logged_in" not in context:
            context["logged_in"] = await logged_in_holder(request) is not None
        state = context.get("form")
        context.setdefault("form", FormState())
        html = env.get_template(template).render(
            csrf_token=signer.sign("csrf", token),
            error_count=len(state.summary) if isinstance(state, FormState) else 0,
            **context,
        )
        response = HTMLResponse(html, status_code=status_code, headers=NO_STORE if private else None)
        if fresh:
            response.set_cookie(
                csrf_cookie, token, httponly=True, samesite="lax", secure=secure_cookies, path="/", max_age=None
            )
        return response

    def see_other(url: str, headers: dict[str, str] | None = None) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers=headers)

    def cgu_token() -> str:
        value = f"{reg.cgu.version}.{int(time.time())}"
        return f"{value}.{signer.sign('cgu', value)}"

    def cgu_token_ok(token: str) -> bool:
        value, _, signature = token.rpartition(".")
        version, _, issued = value.rpartition(".")
        if not issued.isdigit() or version != reg.cgu.version or not signer.verify("cgu", value, signature):
            return False
        return 0 <= time.time() - int(issued) <= CGU_TOKEN_LIFETIME_S

    async def find_request(request_id: str, wait_for_check_s: float = 0.0) -> RequestView | None:
        if not REQUEST_ID.fullmatch(request_id):
            return None
        if wait_for_check_s:
            return await reg.views.request_after_check(request_id, wait_for_check_s)
        return await reg.views.request(request_id)

    async def unknown_request(request: Request) -> HTMLResponse:
        return await render(request, "request_closed.html", 404, title="Demande introuvable", message=UNKNOWN_REQUEST)

    # --- static files -----------------------------------------------------------------------------
    @web.get("/static/{name}")
    async def static(name: str) -> Response:
        found = static_files.get(name)
        if found is None:
            return Response("Introuvable", status_code=404, media_type="text/plain; charset=utf-8")
        return Response(found[0], media_type=found[1], headers={"Cache-Control": "public, max-age=300"})

    # --- home and CGU -----------------------------------------------------------------------------
    @web.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return await render(request, "home.html", title="Mon Compte Formation")

    @web.get("/cgu", response_class=HTMLResponse)
    async def cgu(request: Request) -> HTMLResponse:
        return await render(
            request, "cgu.html", title="Conditions générales d'utilisation", cgu_text=cgu_text, version=reg.cgu.version
        )

    @web.get("/inscription", response_class=HTMLResponse)
    async def cgu_step(request: Request) -> HTMLResponse:
        return await render(
            request,
            "signup_cgu.html",
            title="Valider les conditions générales d'utilisation",
            cgu_text=cgu_text,
            version=reg.cgu.version,
            step=1,
        )

    @web.post("/inscription", response_class=HTMLResponse)
    async def cgu_step_post(request: Request) -> Response:
        form = await request.form()
        state = FormState()
        if not csrf_ok(request, form):
            state.add(None, CSRF_FAILED)
        elif form.get("cgu_accepted") != "1":
            state.add("cgu_accepted", CGU_REQUIRED.message)
        if state.has_errors:
            return await render(
                request,
                "signup_cgu.html",
                403 if not csrf_ok(request, form) else 422,
                title="Valider les conditions générales d'utilisation",
                cgu_text=cgu_text,
                version=reg.cgu.version,
                step=1,
                form=state,
            )
        return see_other(f"/inscription/formulaire?{CGU_TOKEN_FIELD}={cgu_token()}")

    # --- the sign-up form -------------------------------------------------------------------------
    async def signup_page(request: Request, state: FormState, status_code: int, cgu_valid: str) -> HTMLResponse:
        return await render(
            request,
            "signup_form.html",
            status_code,
            title="Créer mon compte",
            step=2,
            form=state,
            cgu_token=cgu_valid,
            diplomas=[(d.value, d.label) for d in Diploma],
            repetitions=REPETITION_CHOICES,
            street_types=STREET_TYPES,
        )

    @web.get("/inscription/formulaire", response_class=HTMLResponse)
    async def signup_form(request: Request) -> HTMLResponse:
        token = request.query_params.get(CGU_TOKEN_FIELD, "")[:200]
        return await signup_page(request, FormState(), 200, token if cgu_token_ok(token) else "")

    @web.post("/inscription/formulaire", response_class=HTMLResponse)
    async def signup_submit(request: Request) -> Response:
        form = await request.form()
        values = {name: _text(form, name) for name in SIGNUP_TEXT_FIELDS}
        values["apprenticeship_contract"] = "1" if form.get("apprenticeship_contract") == "1" else ""
        values["cgu_accepted"] = "1" if form.get("cgu_accepted") == "1" else ""
        token = _text(form, CGU_TOKEN_FIELD)
        token = token if cgu_token_ok(token) else ""
        state = FormState(values=values)
        if not csrf_ok(request, form):
            state.add(None, CSRF_FAILED)
            return await signup_page(request, state, 403, token)
        address = AddressForm(**{part: values[f"address.{part}"] or None for part in ADDRESS_PARTS})
        signup = SignupForm(
            nir=values["nir"],
            nir_key=values["nir_key"],
            first_name=values["first_name"],
            birth_name=values["birth_name"],
            phone_landline=values["phone_landline"],
            phone_mobile=values["phone_mobile"],
            email=values["email"],
            email_confirmation=values["email_confirmation"],
            password=_text(form, "password"),
            password_confirmation=_text(form, "password_confirmation"),
            address=address,
            highest_diploma=values["highest_diploma"],
            apprenticeship_contract=bool(values["apprenticeship_contract"]),
            cgu_accepted=bool(token or values["cgu_accepted"]),
            honeypot=_text(form, "website"),
        )
        client = request.client.host if request.client else "unknown"
        outcome = await reg.signup.sign_up(signup, channel="web", client=client)
        if isinstance(outcome, SignupAccepted):
            return see_other(f"/inscription/{outcome.request_id}/controle")
        if isinstance(outcome, SignupThrottled):
            state.add(None, outcome.message)
            return await signup_page(request, state, 429, token)
        known = frozenset({*SIGNUP_TEXT_FIELDS, *PASSWORD_FIELDS, "apprenticeship_contract", "cgu_accepted"})
        state.add_all(outcome, known)
        return await signup_page(request, state, 422, token)

    # --- security check and "check your inbox" ----------------------------------------------------
    @web.get("/inscription/{request_id}/controle", response_class=HTMLResponse)
    async def security_check(request: Request, request_id: str) -> Response:
        found = await find_request(request_id)
        if found is None:
            return await unknown_request(request)
        status = found.status
        if status in (RequestStatus.AWAITING_CONFIRMATION, RequestStatus.ACTIVE):
            return see_other(f"/inscription/{request_id}/courriel")
        if status is not RequestStatus.AWAITING_CAPTCHA:
            return await closed_request(request, status)
        challenge = found.challenge
        pictures = []
        if challenge:
            pictures = [{"id": url.rsplit("/", 1)[-1], "url": url} for url in challenge.get("picture_urls", [])]
        return await render(
            request,
            "security_check.html",
            title="Contrôle de sécurité",
            step=3,
            private=True,
            request_id=request_id,
            challenge=challenge,
            pictures=pictures,
        )

    async def closed_request(request: Request, status: RequestStatus) -> HTMLResponse:
        if status is RequestStatus.EXPIRED:
            message = "Votre demande d'inscription a expiré. Vous pouvez recommencer votre inscription."
        else:
            message = "Votre demande d'inscription n'a pas abouti. Vous pouvez recommencer votre inscription."
        return await render(request, "request_closed.html", 410, title="Demande d'inscription close", message=message)

    async def inbox_page(
        request: Request,
        request_id: str,
        resends_left: int,
        status_code: int = 200,
        notice: str = "",
        problem: str = "",
    ) -> HTMLResponse:
        return await render(
            request,
            "check_inbox.html",
            status_code,
            title="Consultez votre messagerie",
            step=4,
            private=True,
            request_id=request_id,
            resends_left=resends_left,
            link_hours=round(reg.policy.link_lifetime.total_seconds() / 3600),
            notice=notice,
            problem=problem,
        )

    @web.get("/inscription/{request_id}/courriel", response_class=HTMLResponse)
    async def check_inbox(request: Request, request_id: str) -> Response:
        # Coming straight from a passed check, whose event reaches us a moment later: wait for it (pushed).
        found = await find_request(request_id, wait_for_check_s=5.0 if request.query_params.get("controle") else 0.0)
        if found is None:
            return await unknown_request(request)
        status = found.status
        if status is RequestStatus.AWAITING_CAPTCHA:
            return see_other(f"/inscription/{request_id}/controle")
        if status is RequestStatus.ACTIVE:
            return await render(request, "activation.html", title="Compte activé", outcome="active_already")
        if status is not RequestStatus.AWAITING_CONFIRMATION:
            return await closed_request(request, status)
        return await inbox_page(request, request_id, found.resends_left)

    @web.post("/inscription/{request_id}/courriel", response_class=HTMLResponse)
    async def resend(request: Request, request_id: str) -> Response:
        form = await request.form()
        found = await find_request(request_id)
        if found is None:
            return await unknown_request(request)
        status = found.status
        if not csrf_ok(request, form):
            return await inbox_page(request, request_id, found.resends_left, 403, problem=CSRF_FAILED)
        try:
            updated = await reg.signup.resend(request_id)
        except (ResendTooSoon, ResendLimitReached, CaptchaPending) as exc:
            return await inbox_page(request, request_id, found.resends_left, 429, problem=str(exc))
        except AlreadyActive:
            return await render(request, "activation.html", title="Compte activé", outcome="active_already")
        except (RequestExpired, RequestRejected):
            return await closed_request(request, status)
        if updated is None:
            return await unknown_request(request)
        return await inbox_page(
            request,
            request_id,
            updated.resends_left(reg.policy),
            notice="Un nouveau lien de confirmation va vous être envoyé dans quelques instants.",
        )

    # --- activation (the e-mailed link) -----------------------------------------------------------
    @web.get("/activation", response_class=HTMLResponse)
    async def activation(request: Request, token: str = "") -> HTMLResponse:
        try:
            outcome = await reg.signup.activate(token) if 16 <= len(token) <= 200 else None
        except LockBusy:
            return await render(request, "activation.html", 409, title="Activation en cours", outcome="busy")
        except DomainError as exc:
            status_code, _code = ACTIVATION_ERRORS.get(type(exc), (410, exc.code))
            return await render(
                request, "activation.html", status_code, title="Lien de confirmation", outcome="error", message=str(exc)
            )
        except Exception as exc:  # e.g. Redis unavailable: never a stack trace for the holder
            log.warning("activation page: %r", exc)
            return await render(request, "activation.html", 503, title="Lien de confirmation", outcome="unavailable")
        if outcome is None:
            return await render(
                request,
                "activation.html",
                404,
                title="Lien de confirmation",
                outcome="error",
                message="Ce lien de confirmation n'est pas valide.",
            )
        if outcome.already_active:
            return await render(request, "activation.html", title="Compte déjà activé", outcome="active_already")
        return await render(request, "activation.html", title="Compte activé", outcome="activated")

    # --- login, rights, logout --------------------------------------------------------------------
    login_fields = frozenset({"nir", "password"})

    async def login_page(request: Request, state: FormState, status_code: int = 200) -> HTMLResponse:
        return await render(request, "login.html", status_code, title="Se connecter", form=state)

    @web.get("/connexion", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        if await logged_in_holder(request):
            return see_other("/mes-droits")
        state = FormState()
        if request.query_params.get("session") == "expiree":
            state.add(None, SESSION_EXPIRED)
        return await login_page(request, state, 200)

    @web.post("/connexion", response_class=HTMLResponse)
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        nir, password = _text(form, "nir"), _text(form, "password")
        state = FormState(values={"nir": nir})
        if not csrf_ok(request, form):
            state.add(None, CSRF_FAILED)
            return await login_page(request, state, 403)
        if not nir.strip():
            state.add("nir", "Saisissez votre numéro de sécurité sociale (13 caractères, sans la clé).", login_fields)
        if not password:
            state.add("password", "Saisissez votre mot de passe.", login_fields)
        if state.has_errors:
            return await login_page(request, state, 422)
        client = request.client.host if request.client else "unknown"
        outcome = await reg.login.log_in(nir, password, client)
        if not isinstance(outcome, LoginAccepted):
            state.add("nir", outcome.message, login_fields)
            headers = {"Retry-After": str(outcome.retry_after_s)} if outcome.retry_after_s else None
            refused = await login_page(request, state, 401 if outcome.code == "invalid_credentials" else 429)
            refused.headers.update(headers or {})
            return refused
        response = see_other("/mes-droits")
        response.set_cookie(
            SESSION_COOKIE,
            outcome.session_id,
            max_age=reg.login.session_ttl_s,
            httponly=True,
            samesite="lax",
            secure=secure_cookies,
            path="/",
        )
        return response

    @web.get("/mes-droits", response_class=HTMLResponse)
    async def my_rights(request: Request) -> Response:
        holder_id = await logged_in_holder(request)
        if holder_id is None:
            return see_other("/connexion?session=expiree" if request.cookies.get(SESSION_COOKIE) else "/connexion")
        account = await reg.views.account(holder_id)
        return await render(
            request,
            "rights.html",
            title="Mes droits",
            private=True,
            logged_in=True,
            first_name=account.first_name if account else "",
            diploma=account.highest_diploma if account else Diploma.NOT_GIVEN,
        )

    @web.post("/deconnexion", response_class=HTMLResponse)
    async def logout(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form):
            return await render(
                request, "message.html", 403, title="Déconnexion", message=CSRF_FAILED, back="/mes-droits"
            )
        sid = request.cookies.get(SESSION_COOKIE, "")
        if sid and len(sid) <= 200:
            await reg.login.log_out(sid)
        response = see_other("/deconnexion")
        response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookies, httponly=True, samesite="lax")
        return response

    @web.get("/deconnexion", response_class=HTMLResponse)
    async def logged_out(request: Request) -> HTMLResponse:
        return await render(request, "logged_out.html", title="Vous êtes déconnecté(e)")

    # --- forgotten password -----------------------------------------------------------------------
    @web.get("/mot-de-passe/oublie", response_class=HTMLResponse)
    async def forgotten(request: Request) -> HTMLResponse:
        return await render(request, "password_forgotten.html", title="Mot de passe oublié", sent=False)

    @web.post("/mot-de-passe/oublie", response_class=HTMLResponse)
    async def forgotten_submit(request: Request) -> HTMLResponse:
        form = await request.form()
        nir = _text(form, "nir")
        state = FormState(values={"nir": nir})
        if not csrf_ok(request, form):
            state.add(None, CSRF_FAILED)
        elif not nir.strip():
            state.add("nir", "Saisissez votre numéro de sécurité sociale (13 caractères, sans la clé).")
        if state.has_errors:
            return await render(
                request,
                "password_forgotten.html",
                403 if state.errors == {} else 422,
                title="Mot de passe oublié",
                sent=False,
                form=state,
            )
        await reg.resets.request_reset(nir)
        return await render(request, "password_forgotten.html", title="Mot de passe oublié", sent=True)

    reset_fields = frozenset(PASSWORD_FIELDS)

    async def new_password_page(request: Request, token: str, state: FormState, status_code: int = 200) -> HTMLResponse:
        return await render(
            request,
            "password_new.html",
            status_code,
            title="Nouveau mot de passe",
            token=token,
            form=state,
            done=False,
            private=True,
        )

    @web.get("/mot-de-passe/nouveau", response_class=HTMLResponse)
    async def new_password(request: Request, token: str = "") -> HTMLResponse:
        state = FormState()
        if not 16 <= len(token) <= 200:
            state.add(None, "Ce lien de réinitialisation n'est pas valide ou a expiré. Demandez-en un nouveau.")
        return await new_password_page(request, token[:200], state, 200 if not state.has_errors else 404)

    @web.post("/mot-de-passe/nouveau", response_class=HTMLResponse)
    async def new_password_submit(request: Request) -> HTMLResponse:
        form = await request.form()
        token = _text(form, "token")[:200]
        state = FormState()
        if not csrf_ok(request, form):
            state.add(None, CSRF_FAILED)
            return await new_password_page(request, token, state, 403)
        problems = await reg.resets.confirm_reset(
            token, _text(form, "password"), _text(form, "password_confirmation")
        )
        if problems:
            state.add_all(problems, reset_fields)
            dead_link = any(p.field == "token" for p in problems)
            return await new_password_page(request, "" if dead_link else token, state, 410 if dead_link else 422)
        return await render(request, "password_new.html", title="Mot de passe modifié", done=True, token="")

    return web
