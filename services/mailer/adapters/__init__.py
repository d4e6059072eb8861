"""Mailer adapters: the I/O edges (template files on disk, SMTP)."""
