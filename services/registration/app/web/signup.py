"""Sign-up pages, in the order the holder meets them: the CGU step, the form, the security check, then
"check your inbox" (with its resend button). Registration owns the workflow (``use_cases/signup.py``)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.registration.app.deps import ClientHost, HttpSetup, Reg, Setup
from services.registration.app.web.deps import CsrfOk, Form, Page, Security
from services.registration.app.web.rendering import (
    CSRF_FAILED,
    DIPLOMA_LABELS,
    PASSWORD_FIELDS,
    REPETITION_CHOICES,
    STREET_TYPES,
    FormState,
    PageRenderer,
    form_text,
    see_other,
)
from services.registration.app.web.security import CGU_TOKEN_FIELD
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
from services.registration.domain.signup import FIELD_ORDER, SignupForm
from services.registration.use_cases import Registration
from services.registration.use_cases.queries import RequestView
from services.registration.use_cases.signup import SignupAccepted, SignupThrottled

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ADDRESS_PARTS = tuple(AddressForm.__dataclass_fields__)
CHECKBOXES = ("apprenticeship_contract", "cgu_accepted")
# The form's text fields in the domain's order, the address spelled out part by part, passwords apart.
SIGNUP_TEXT_FIELDS = tuple(
    part
    for name in FIELD_ORDER
    if name not in PASSWORD_FIELDS and name not in CHECKBOXES
    for part in ([f"address.{p}" for p in ADDRESS_PARTS] if name == "address" else [name])
)
SIGNUP_FIELDS = frozenset({*SIGNUP_TEXT_FIELDS, *PASSWORD_FIELDS, *CHECKBOXES})
UNKNOWN_REQUEST = "Cette demande d'inscription est inconnue ou a expiré. Vous pouvez recommencer votre inscription."
REQUEST_EXPIRED = "Votre demande d'inscription a expiré. Vous pouvez recommencer votre inscription."
REQUEST_FAILED = "Votre demande d'inscription n'a pas abouti. Vous pouvez recommencer votre inscription."
RESEND_NOTICE = "Un nouveau lien de confirmation va vous être envoyé dans quelques instants."

router = APIRouter(include_in_schema=False)


# --- the CGU step ----------------------------------------------------------------------------------
async def cgu_page(
    page: PageRenderer, setup: HttpSetup, status_code: int = 200, state: FormState | None = None
) -> HTMLResponse:
    return await page.render(
        "signup_cgu.html",
        status_code,
        title="Valider les conditions générales d'utilisation",
        cgu_text=setup.cgu_text,
        version=setup.registration.cgu.version,
        step=1,
        form=state or FormState(),
    )


@router.get("/inscription", response_class=HTMLResponse)
async def cgu_step(page: Page, setup: Setup) -> HTMLResponse:
    return await cgu_page(page, setup)


@router.post("/inscription", response_class=HTMLResponse)
async def cgu_step_post(page: Page, setup: Setup, form: Form, csrf_ok: CsrfOk, security: Security) -> Response:
    state = FormState()
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
    elif form.get("cgu_accepted") != "1":
        state.add("cgu_accepted", CGU_REQUIRED.message)
    if state.has_errors:
        return await cgu_page(page, setup, 403 if not csrf_ok else 422, state)
    return see_other(f"/inscription/formulaire?{CGU_TOKEN_FIELD}={security.cgu_token()}")


# --- the sign-up form ------------------------------------------------------------------------------
async def form_page(
    page: PageRenderer, state: FormState, status_code: int, cgu_token: str, identity: dict[str, str] | None = None
) -> HTMLResponse:
    """The form; with ``identity`` (names and birth date from FranceConnect, shown, not editable) it is the
    sign-up with FranceConnect: one e-mail field, an optional password, no picture check after it."""
    return await page.render(
        "signup_form.html",
        status_code,
        title="Créer mon compte avec FranceConnect" if identity else "Créer mon compte",
        step=None if identity else 2,  # no picture check after FranceConnect: not the four steps
        form=state,
        cgu_token=cgu_token,
        identity=identity,
        private=identity is not None,
        diplomas=list(DIPLOMA_LABELS.items()),
        repetitions=REPETITION_CHOICES,
        street_types=STREET_TYPES,
    )


def typed_values(form: FormData) -> dict[str, str]:
    """What the form shows again after an error: every field but the passwords."""
    values = {name: form_text(form, name) for name in SIGNUP_TEXT_FIELDS}
    values.update({name: "1" if form.get(name) == "1" else "" for name in CHECKBOXES})
    return values


def to_signup_form(form: FormData, values: dict[str, str], cgu_accepted: bool) -> SignupForm:
    return SignupForm(
        nir=values["nir"],
        nir_key=values["nir_key"],
        first_name=values["first_name"],
        birth_name=values["birth_name"],
        phone_landline=values["phone_landline"],
        phone_mobile=values["phone_mobile"],
        email=values["email"],
        email_confirmation=values["email_confirmation"],
        password=form_text(form, "password"),
        password_confirmation=form_text(form, "password_confirmation"),
        address=AddressForm(**{part: values[f"address.{part}"] or None for part in ADDRESS_PARTS}),
        highest_diploma=values["highest_diploma"],
        apprenticeship_contract=bool(values["apprenticeship_contract"]),
        cgu_accepted=cgu_accepted,
        honeypot=form_text(form, "website"),
    )


@router.get("/inscription/formulaire", response_class=HTMLResponse)
async def signup_form(request: Request, page: Page, security: Security) -> HTMLResponse:
    token = request.query_params.get(CGU_TOKEN_FIELD, "")[:200]
    return await form_page(page, FormState(), 200, token if security.cgu_token_ok(token) else "")


@router.post("/inscription/formulaire", response_class=HTMLResponse)
async def signup_submit(
    page: Page, form: Form, csrf_ok: CsrfOk, security: Security, reg: Reg, client: ClientHost
) -> Response:
    values = typed_values(form)
    token = form_text(form, CGU_TOKEN_FIELD)
    token = token if security.cgu_token_ok(token) else ""
    state = FormState(values=values)
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
        return await form_page(page, state, 403, token)
    signup = to_signup_form(form, values, cgu_accepted=bool(token or values["cgu_accepted"]))
    outcome = await reg.signup.sign_up(signup, channel="web", client=client)
    if isinstance(outcome, SignupAccepted):
        return see_other(f"/inscription/{outcome.request_id}/controle")
    if isinstance(outcome, SignupThrottled):
        state.add(None, outcome.message)
        return await form_page(page, state, 429, token)
    state.add_all(outcome, SIGNUP_FIELDS)
    return await form_page(page, state, 422, token)


# --- the request's later pages ---------------------------------------------------------------------
async def find_request(reg: Registration, request_id: str, wait_for_check_s: float = 0.0) -> RequestView | None:
    if not REQUEST_ID.fullmatch(request_id):
        return None
    if wait_for_check_s:
        return await reg.views.request_after_check(request_id, wait_for_check_s)
    return await reg.views.request(request_id)


async def unknown_request(page: PageRenderer) -> HTMLResponse:
    return await page.render("request_closed.html", 404, title="Demande introuvable", message=UNKNOWN_REQUEST)


async def closed_request(page: PageRenderer, status: RequestStatus) -> HTMLResponse:
    message = REQUEST_EXPIRED if status is RequestStatus.EXPIRED else REQUEST_FAILED
    return await page.render("request_closed.html", 410, title="Demande d'inscription close", message=message)


async def already_active(page: PageRenderer) -> HTMLResponse:
    return await page.render("activation.html", title="Compte activé", outcome="active_already")


@router.get("/inscription/{request_id}/controle", response_class=HTMLResponse)
async def security_check(request_id: str, page: Page, reg: Reg) -> Response:
    found = await find_request(reg, request_id)
    if found is None:
        return await unknown_request(page)
    status = found.status
    if status in (RequestStatus.AWAITING_CONFIRMATION, RequestStatus.ACTIVE):
        return see_other(f"/inscription/{request_id}/courriel")
    if status is not RequestStatus.AWAITING_CAPTCHA:
        return await closed_request(page, status)
    challenge = found.challenge
    pictures = []
    if challenge:
        pictures = [{"id": url.rsplit("/", 1)[-1], "url": url} for url in challenge.get("picture_urls", [])]
    return await page.render(
        "security_check.html",
        title="Contrôle de sécurité",
        step=3,
        private=True,
        request_id=request_id,
        challenge=challenge,
        pictures=pictures,
    )


async def inbox_page(
    page: PageRenderer,
    reg: Registration,
    request_id: str,
    resends_left: int,
    status_code: int = 200,
    notice: str = "",
    problem: str = "",
) -> HTMLResponse:
    return await page.render(
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


@router.get("/inscription/{request_id}/courriel", response_class=HTMLResponse)
async def check_inbox(request: Request, request_id: str, page: Page, reg: Reg) -> Response:
    # Coming straight from a passed check, whose event reaches us a moment later: wait for it (pushed).
    wait_s = 5.0 if request.query_params.get("controle") else 0.0
    found = await find_request(reg, request_id, wait_for_check_s=wait_s)
    if found is None:
        return await unknown_request(page)
    status = found.status
    if status is RequestStatus.AWAITING_CAPTCHA:
        return see_other(f"/inscription/{request_id}/controle")
    if status is RequestStatus.ACTIVE:
        return await already_active(page)
    if status is not RequestStatus.AWAITING_CONFIRMATION:
        return await closed_request(page, status)
    return await inbox_page(page, reg, request_id, found.resends_left)


@router.post("/inscription/{request_id}/courriel", response_class=HTMLResponse)
async def resend(request_id: str, page: Page, reg: Reg, csrf_ok: CsrfOk) -> Response:
    found = await find_request(reg, request_id)
    if found is None:
        return await unknown_request(page)
    if not csrf_ok:
        return await inbox_page(page, reg, request_id, found.resends_left, 403, problem=CSRF_FAILED)
    try:
        updated = await reg.signup.resend(request_id)
    except (ResendTooSoon, ResendLimitReached, CaptchaPending) as exc:
        return await inbox_page(page, reg, request_id, found.resends_left, 429, problem=str(exc))
    except AlreadyActive:
        return await already_active(page)
    except (RequestExpired, RequestRejected):
        return await closed_request(page, found.status)
    if updated is None:
        return await unknown_request(page)
    return await inbox_page(page, reg, request_id, updated.resends_left(reg.policy), notice=RESEND_NOTICE)
