"""``python -m services.rights.app``: run the rights process."""

from eventing.runner import run

run("rights", "services.rights.app.main:create_app", "services.rights.settings:Settings")
