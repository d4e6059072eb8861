"""The captcha's use cases: plain functions and small classes over the ports of :mod:`.ports`."""
