"""The mailer's use cases: ``requests.py`` queues what registration asks for; ``sending.py`` sends it."""
