"""``python -m services.captcha.app``: run the captcha process."""

from eventing.runner import run

run("captcha", "services.captcha.app.main:create_app", "services.captcha.settings:Settings")
