"""The FranceConnect pages (issue 13): the buttons' starts, the provider's callback, and the sign-up form
after the provider. Each route calls ``reg.franceconnect`` (``use_cases/franceconnect.py``).

One redirect URI serves every purpose: the start keeps ``<purpose>.<state>`` in an HttpOnly, SameSite=Lax
cookie that the callback reads (the client checks the state against it: no login CSRF). Between the
callback and the sign-up form the verified identity waits in Redis (``HeldIdentities``), found by an
unguessable id in another HttpOnly cookie: the names shown are the provider's, never the browser's.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.registration.app.deps import Client, HttpSetup, Reg, Setup
from services.registration.app.http import SESSION_COOKIE, set_session_cookie
from services.registration.app.web.deps import CsrfOk, CurrentHolder, Form, Page
from services.registration.app.web.rendering import CSRF_FAILED, FormState, PageRenderer, see_other
from services.registration.app.web.signup import SIGNUP_FIELDS, form_page, to_signup_form, typed_values
from services.registration.domain.franceconnect_signup import identity_names
from services.registration.domain.identity import VerifiedIdentity
from services.registration.use_cases import Registration
from services.registration.use_cases.franceconnect import AwaitingConfirmation, Refused
from services.registration.use_cases.identity import IdentityProviderError, ProviderUnavailable
from services.registration.use_cases.sessions import LoginAccepted
from services.registration.use_cases.signup import SignupThrottled

LOGIN_COOKIE = "mcf_fc_login"
LOGOUT_COOKIE = "mcf_fc_logout"
LOGGED_OUT = "/deconnexion"  # the post-logout redirect URI registered with the provider
IDENTITY_COOKIE = "mcf_fc_identity"
IDENTITY_TTL_S = 1800  # long enough to fill the form, short enough not to linger
CALLBACK = "/connexion/franceconnect/retour"
FORM = "/inscription/franceconnect/formulaire"
Purpose = Literal["login", "signup", "link", "reauth"]
EMAIL_CHANGE_PAGE = "/mes-droits/courriel"
LOGOUT_UNVERIFIED = (
    "Vous êtes déconnecté(e) de Mon Compte Formation, mais le retour de FranceConnect n'a pas pu être vérifié. "
    "Fermez votre navigateur si vous utilisez un ordinateur partagé."
)
FC_OFF = (
    "La connexion avec FranceConnect n'est pas disponible pour le moment. Connectez-vous avec votre numéro de "
    "sécurité sociale et votre mot de passe."
)
IDENTITY_EXPIRED = "Votre identification avec FranceConnect a expiré : identifiez-vous à nouveau."
LINKED_NOTICE = "franceconnect=lie"
NOT_A_REAUTHENTICATION = (
    "Cette identification avec FranceConnect n'a pas été demandée pour confirmer un changement : rien n'a été "
    "modifié. Recommencez depuis la page de votre adresse e-mail."
)

router = APIRouter(include_in_schema=False)


async def fc_error(
    page: PageRenderer,
    message: str,
    status_code: int,
    back: str = "/connexion",
    title: str = "Connexion avec FranceConnect",
) -> HTMLResponse:
    return await page.render("message.html", status_code, title=title, message=message, back=back)


async def start(page: PageRenderer, reg: Registration, setup: HttpSetup, purpose: Purpose) -> Response:
    if reg.identity is None:
        return await fc_error(page, FC_OFF, 503)
    try:
        begun = await reg.identity.begin_login(reauthenticate=purpose == "reauth")
    except IdentityProviderError as exc:
        return await fc_error(page, exc.message, 503)
    response = RedirectResponse(begun.authorization_url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE, f"{purpose}.{begun.state}", max_age=600, httponly=True, samesite="lax",
        secure=setup.secure_cookies, path=CALLBACK,
    )  # fmt: skip
    return response


@router.get("/connexion/franceconnect", response_class=HTMLResponse)
async def login_start(page: Page, reg: Reg, setup: Setup) -> Response:
    return await start(page, reg, setup, "login")


@router.get("/inscription/franceconnect", response_class=HTMLResponse)
async def signup_start(page: Page, reg: Reg, setup: Setup) -> Response:
    return await start(page, reg, setup, "signup")


@router.get("/mes-droits/franceconnect", response_class=HTMLResponse)
async def link_start(page: Page, reg: Reg, setup: Setup, holder: CurrentHolder) -> Response:
    # A link, not a form: the CSP's form-action 'self' would block a form whose redirect leaves the site.
    # Starting is harmless: nothing is linked before this browser's own provider login and cross-check.
    if holder is None:
        return see_other("/connexion?session=expiree")
    return await start(page, reg, setup, "link")


@router.get(EMAIL_CHANGE_PAGE + "/franceconnect", response_class=HTMLResponse)
async def reauth_start(page: Page, reg: Reg, setup: Setup, holder: CurrentHolder) -> Response:
    """Authenticate again with FranceConnect (``prompt=login``) before changing the address."""
    if holder is None:
        return see_other("/connexion?session=expiree")
    return await start(page, reg, setup, "reauth")


async def logout_at_provider(
    page: PageRenderer, reg: Registration, setup: HttpSetup, id_token: str | None
) -> Response | None:
    """After a FranceConnect login's local logout: a page sending the browser to the provider's
    ``end_session_endpoint`` (``id_token_hint``, ``state``, ``post_logout_redirect_uri``); the ``state``
    waits in an HttpOnly cookie for the way back. None when there is nothing to end at the provider."""
    if not id_token or reg.identity is None:
        return None
    state = secrets.token_urlsafe(32)
    try:
        url = await reg.identity.logout_url(id_token, state)
    except IdentityProviderError:
        return None  # the local session is closed; the provider's ends with its own lifetime
    response = await page.render(
        "logout_franceconnect.html", title="Déconnexion de FranceConnect", logged_in=False, provider_url=url,
        private=True,  # it carries the ID token (id_token_hint): never stored by a cache
    )
    response.set_cookie(
        LOGOUT_COOKIE, state, max_age=600, httponly=True, samesite="lax", secure=setup.secure_cookies,
        path=LOGGED_OUT,
    )  # fmt: skip
    return response


async def back_from_provider_logout(request: Request, page: PageRenderer, setup: HttpSetup) -> Response:
    """The provider sent the browser back to the post-logout URI: its ``state`` must be this browser's."""
    state, expected = request.query_params.get("state", ""), request.cookies.get(LOGOUT_COOKIE, "")
    if state or expected:
        verified = bool(state and expected) and hmac.compare_digest(state.encode(), expected.encode())
        if verified:
            response = await page.render("logged_out.html", title="Vous êtes déconnecté(e)", franceconnect=True)
        else:
            response = await fc_error(page, LOGOUT_UNVERIFIED, 400, back="/", title="Déconnexion")
        response.delete_cookie(
            LOGOUT_COOKIE, path=LOGGED_OUT, secure=setup.secure_cookies, httponly=True, samesite="lax"
        )
        return response
    return await page.render("logged_out.html", title="Vous êtes déconnecté(e)")


def logged_in(accepted: LoginAccepted, reg: Registration, setup: HttpSetup, to: str = "/mes-droits") -> Response:
    response = see_other(to)
    set_session_cookie(response, accepted.session_id, max_age=reg.login.session_ttl_s, secure=setup.secure_cookies)
    response.delete_cookie(IDENTITY_COOKIE, path="/", secure=setup.secure_cookies, httponly=True, samesite="lax")
    return response


async def held(request: Request, reg: Registration) -> tuple[str, VerifiedIdentity | None]:
    hold_id = request.cookies.get(IDENTITY_COOKIE, "")
    return hold_id, await reg.held_identities.held(hold_id) if hold_id else None


@router.get(CALLBACK, response_class=HTMLResponse)
async def callback(
    request: Request, page: Page, reg: Reg, setup: Setup, holder: CurrentHolder, client: Client
) -> Response:
    purpose, _, state = request.cookies.get(LOGIN_COOKIE, "").partition(".")
    if reg.identity is None:
        return await fc_error(page, FC_OFF, 503)
    try:
        completed = await reg.identity.complete_login(dict(request.query_params), state or None)
    except IdentityProviderError as exc:
        back = {"reauth": EMAIL_CHANGE_PAGE, "link": "/mes-droits"}.get(purpose, "/connexion")  # where it started
        return await fc_error(page, exc.message, 503 if isinstance(exc, ProviderUnavailable) else 400, back=back)
    identity = completed.identity
    # The login the server started decides a re-authentication; a cookie saying "reauth" is not enough.
    if purpose == "reauth" or completed.reauthenticated:
        if holder is None:
            return see_other("/connexion?session=expiree")
        session_id = request.cookies.get(SESSION_COOKIE, "")
        await reg.login.keep_provider_id_token(session_id, completed.id_token)  # its logout ends it, refused or not
        if not completed.reauthenticated:
            refusal = NOT_A_REAUTHENTICATION
            return await fc_error(page, refusal, 403, back=EMAIL_CHANGE_PAGE, title="Confirmation refusée")
        refused = await reg.franceconnect.reauthenticate(holder, session_id, identity)
        if isinstance(refused, Refused):
            return await fc_error(page, refused.message, 403, back=EMAIL_CHANGE_PAGE, title="Confirmation refusée")
        return see_other(EMAIL_CHANGE_PAGE)
    if purpose == "link":
        if holder is None:
            return see_other("/connexion?session=expiree")
        await reg.login.keep_provider_id_token(request.cookies.get(SESSION_COOKIE, ""), completed.id_token)
        linked = await reg.franceconnect.link(holder, identity)
        if isinstance(linked, Refused):
            return await fc_error(page, linked.message, 409, back="/mes-droits", title="Votre compte n'a pas été lié")
        return see_other(f"/mes-droits?{LINKED_NOTICE}")
    outcome = await reg.franceconnect.log_in(identity, client, completed.id_token)
    if isinstance(outcome, LoginAccepted):
        return logged_in(outcome, reg, setup)
    hold_id = await reg.held_identities.hold(identity, IDENTITY_TTL_S, completed.id_token)
    if purpose == "signup":
        response: Response = see_other(FORM)
    else:  # a login with an identity no account is linked to: offer the sign-up with it
        response = await page.render("franceconnect_unknown.html", title="Aucun compte lié à cette identité")
    response.set_cookie(
        IDENTITY_COOKIE, hold_id, max_age=IDENTITY_TTL_S, httponly=True, samesite="lax",
        secure=setup.secure_cookies, path="/",
    )  # fmt: skip
    return response


async def identity_form(
    page: PageRenderer, identity: VerifiedIdentity, state: FormState, status_code: int = 200
) -> HTMLResponse:
    first_names, birth_name = identity_names(identity)
    shown = {"first_names": first_names, "birth_name": birth_name, "birthdate": identity.birthdate.strftime("%d/%m/%Y")}
    return await form_page(page, state, status_code, "", identity=shown)


@router.get(FORM, response_class=HTMLResponse)
async def signup_form(request: Request, page: Page, reg: Reg) -> Response:
    _, identity = await held(request, reg)
    if identity is None:
        return await fc_error(page, IDENTITY_EXPIRED, 410, back="/inscription")
    return await identity_form(page, identity, FormState(values={"email": identity.email}))


@router.post(FORM, response_class=HTMLResponse)
async def signup_submit(
    request: Request, page: Page, reg: Reg, setup: Setup, form: Form, csrf_ok: CsrfOk, client: Client
) -> Response:
    hold_id, identity = await held(request, reg)
    if identity is None:
        return await fc_error(page, IDENTITY_EXPIRED, 410, back="/inscription")
    values = typed_values(form)
    state = FormState(values=values)
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
        return await identity_form(page, identity, state, 403)
    typed = to_signup_form(form, values, form.get("cgu_accepted") == "1")
    outcome = await reg.franceconnect.sign_up(
        identity, typed, client, await reg.held_identities.provider_id_token(hold_id)
    )
    if isinstance(outcome, list):
        state.add_all(outcome, SIGNUP_FIELDS)
        return await identity_form(page, identity, state, 422)
    if isinstance(outcome, Refused):
        state.add("nir", outcome.message, SIGNUP_FIELDS)
        return await identity_form(page, identity, state, 409)
    if isinstance(outcome, SignupThrottled):
        state.add(None, outcome.message)
        throttled = await identity_form(page, identity, state, 429)
        throttled.headers["Retry-After"] = str(outcome.retry_after_s)
        return throttled
    await reg.held_identities.release(hold_id)
    if isinstance(outcome, AwaitingConfirmation):
        response = see_other(f"/inscription/{outcome.request_id}/courriel")
        response.delete_cookie(IDENTITY_COOKIE, path="/", secure=setup.secure_cookies, httponly=True, samesite="lax")
        return response
    return logged_in(outcome, reg, setup)
