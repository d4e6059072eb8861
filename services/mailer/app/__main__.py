"""``python -m services.mailer.app``: run the mailer process."""

from eventing.runner import run

run("mailer", "services.mailer.app.main:create_app", "services.mailer.settings:Settings")
