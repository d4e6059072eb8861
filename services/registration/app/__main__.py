"""``python -m services.registration.app``: run the registration process."""

from eventing.runner import run

run("registration", "services.registration.app.main:create_app", "services.registration.settings:Settings")
