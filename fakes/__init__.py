"""Test doubles of the third parties (GHN, GHTK, the SMS gateway, Zalo ZNS, SMTP) and sandbox test helpers.

They reproduce the documented contracts for tests/ and bench/, and stay out of the wheel: pyproject's
[tool.setuptools.packages.find] leaves this package out, and an import-linter contract keeps orders_service, couriers
and notifications from importing it.
"""
