"""Registration's use cases, each taking the ports it needs (``ports.py``); built in ``app/main.py``.

- ``signup.py``: the form, the captcha's verdict, resends, activation, purge (registration owns the
  workflow and asks the captcha and the mailer by command);
- ``sessions.py``: login, sessions, logout; ``login_alerts.py``: the login history, the new-login alert
  and "Ce n'était pas moi";
- ``password_reset.py``: the reset link and the new password;
- ``email_change.py``: a new e-mail address, after authenticating again, confirmed by a link;
- ``franceconnect.py``: login, linking and sign-up with FranceConnect (``identity.py``: its port);
- ``queries.py``: what the pages and the API show.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.registration.domain.account import LifecyclePolicy
from services.registration.domain.cgu import CguDocument
from services.registration.use_cases.email_change import EmailChanges
from services.registration.use_cases.franceconnect import FranceConnectAccounts
from services.registration.use_cases.identity import HeldIdentities, IdentityProvider
from services.registration.use_cases.login_alerts import LoginAlerts
from services.registration.use_cases.password_reset import PasswordResets
from services.registration.use_cases.queries import Views
from services.registration.use_cases.sessions import LogIn
from services.registration.use_cases.signup import SignUp


@dataclass(frozen=True)
class Registration:
    """Every use case, as the HTTP routes and the subscribers receive them."""

    signup: SignUp
    login: LogIn
    resets: PasswordResets
    alerts: LoginAlerts
    email_changes: EmailChanges
    franceconnect: FranceConnectAccounts
    views: Views
    cgu: CguDocument
    policy: LifecyclePolicy
    page_key: bytes  # signs the pages' CSRF and CGU tokens (domain-separated from its other uses)
    identity: IdentityProvider | None  # FranceConnect; None when not configured (password only)
    held_identities: HeldIdentities  # a verified identity between the provider's callback and the form
