"""Jinja2 implementation of the domain's ``TemplateRenderer``: reads ``services/mailer/templates/``.

Files are ``<kind>.subject.j2``, ``<kind>.txt.j2`` and ``<kind>.html.j2`` (see templates/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2

from services.mailer.domain.mail import MailKind, RenderedMail

DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


class JinjaTemplateRenderer:
    """Renders mail templates from a directory (the packaged one by default).

    ``StrictUndefined``: a misspelt variable fails the render instead of sending a mail with a hole in
    it. Autoescaping is on for ``.html.j2`` only, so a first name like ``<b>`` is shown, not interpreted,
    while the plain-text part keeps it verbatim.
    """

    def __init__(self, directory: Path | str = DEFAULT_TEMPLATE_DIR) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory), encoding="utf-8"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            # Template files are cached after the first load; restart the service to pick up edits.
            auto_reload=False,
        )

    def render(self, kind: MailKind, variables: Mapping[str, object]) -> RenderedMail:
        subject = self._env.get_template(f"{kind.value}.subject.j2").render(variables).strip()
        text = self._env.get_template(f"{kind.value}.txt.j2").render(variables)
        html = self._env.get_template(f"{kind.value}.html.j2").render({**variables, "subject": subject})
        return RenderedMail(subject=subject, text=text, html=html)

    def check(self) -> None:
        """Load (parse) every template of every kind; call at start-up to fail fast on a broken edit."""
        for kind in MailKind:
            for suffix in ("subject", "txt", "html"):
                self._env.get_template(f"{kind.value}.{suffix}.j2")
