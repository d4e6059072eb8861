"""Entry points of the rights service (the `cpf-rights` simulator, the service process)."""
