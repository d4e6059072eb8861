"""The rights service: each holder's CPF, DIF, CEC, C2P and public-sector ledgers, projected under the law."""
