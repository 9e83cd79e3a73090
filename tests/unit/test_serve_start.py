"""What `serve` does on import costs every start: no password hash is computed before a sign-in asks for one."""

from __future__ import annotations

import subprocess
import sys

from orders_service.dashboard import users

COUNT_HASHES = """
import argon2
made = []
real = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, password, **kw: made.append(1) or real(self, password, **kw)
import orders_service.dashboard.users
print(len(made))
"""


def test_importing_the_users_module_hashes_nothing() -> None:
    # In a fresh interpreter: this test process may have imported the module already.
    done = subprocess.run([sys.executable, "-c", COUNT_HASHES], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"


def test_an_unknown_name_is_refused_against_a_real_dummy_hash() -> None:
    # The dummy hash, made on first use, is a real argon2 hash that no password matches.
    assert users.password_matches(None, "not a password anyone has") is False
    assert users._dummy_hash().startswith("$argon2id$")
