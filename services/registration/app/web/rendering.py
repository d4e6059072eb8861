"""How the pages are shown: the Jinja environment, the French labels, choices and messages, what a form
page shows (:class:`FormState`) and :class:`Page`, which renders a template for one request.

The domain's validation is the truth and its French messages are shown next to their field and in a
summary at the top; the labels here are only presentation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request

from services.registration.app.web.security import PageSecurity
from services.registration.domain.diploma import Diploma
from services.registration.domain.errors import FieldError

WEB_DIR = Path(__file__).resolve().parents[2] / "web"  # services/registration/web
TEMPLATES = WEB_DIR / "templates"
MAX_FIELD_CHARS = 1000
NO_STORE = {"Cache-Control": "no-store"}

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
DIPLOMA_LABELS = {  # as on the real form's list
    Diploma.NOT_GIVEN: "Non renseigné",
    Diploma.NONE: "Sans diplôme",
    Diploma.CAP_BEP: "CAP, BEP ou diplôme de niveau équivalent",
    Diploma.BAC: "Baccalauréat (général, technologique ou professionnel), brevet professionnel",
    Diploma.BAC_PLUS_2: "Bac+2 (BTS, DUT, DEUG, DEUST)",
    Diploma.BAC_PLUS_3_4: "Bac+3 ou Bac+4 (licence, licence professionnelle, BUT, maîtrise, master 1)",
    Diploma.BAC_PLUS_5_OR_MORE: "Bac+5 (master, DEA, DESS, diplôme d'ingénieur) ou plus (doctorat)",
}
STEPS = ("Valider les CGU", "S'inscrire", "Contrôle de sécurité", "Confirmer mon courriel")

CSRF_FAILED = (
    "Pour votre sécurité, ce formulaire a expiré. Vérifiez vos informations puis validez à nouveau "
    "(les mots de passe sont à ressaisir)."
)
NIR_MISSING = "Saisissez votre numéro de sécurité sociale (13 caractères, sans la clé)."
PASSWORD_FIELDS = frozenset({"password", "password_confirmation"})


def field_id(name: str) -> str:
    """The HTML id of a form field: ``address.postcode`` → ``address-postcode``."""
    return name.replace(".", "-").replace("_", "-")


ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals.update(field_id=field_id, steps=STEPS, diploma_labels=DIPLOMA_LABELS)


def form_text(form: FormData, name: str) -> str:
    """A posted text field, cut to a sane length ("" when absent or a file)."""
    value = form.get(name)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


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


def see_other(url: str, headers: dict[str, str] | None = None) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=headers)


@dataclass(frozen=True)
class PageRenderer:
    """Renders a template for one request: its CSRF token (and cookie) and whether the holder is logged in.

    ``private`` pages (personal data) are ``no-store``."""

    request: Request
    security: PageSecurity
    holder: Callable[[], Awaitable[str | None]]  # the logged-in holder, looked up only when needed

    async def render(
        self, template: str, status_code: int = 200, *, private: bool = False, **context: Any
    ) -> HTMLResponse:
        token, fresh = self.security.csrf_pair(self.request)
        if "logged_in" not in context:
            context["logged_in"] = await self.holder() is not None
        state = context.get("form")
        context.setdefault("form", FormState())
        html = ENV.get_template(template).render(
            csrf_token=self.security.csrf_form_token(token),
            error_count=len(state.summary) if isinstance(state, FormState) else 0,
            **context,
        )
        response = HTMLResponse(html, status_code=status_code, headers=NO_STORE if private else None)
        if fresh:
            self.security.set_csrf_cookie(response, token)
        return response
