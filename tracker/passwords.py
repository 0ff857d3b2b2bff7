"""Password hashing (Argon2id) and the password policy shared by every form and the CLI."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile

MIN_LENGTH = 8
MAX_LENGTH = 128

#: The most common passwords of public breach lists; refused outright.
COMMON_PASSWORDS = frozenset(
    [
        "password", "password1", "password12", "password123", "passw0rd", "p@ssw0rd",
        "12345678", "123456789", "1234567890", "11111111", "00000000", "87654321",
        "12341234", "11223344", "qwertyui", "qwerty123", "qwertyuiop", "1q2w3e4r",
        "1q2w3e4r5t", "zaq12wsx", "asdfghjk", "iloveyou", "sunshine", "princess",
        "football", "baseball", "welcome1", "welcome123", "letmein1", "admin123",
        "administrator", "trustno1", "superman", "starwars", "dragon123", "monkey123",
        "abc12345", "abcd1234", "aa123456", "changeme", "changeme123", "secret123",
        "computer", "internet", "michelle", "jennifer", "whatever",
    ]
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password; unknown users are checked against a dummy hash by callers so
    that both answers take the same time."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None. No composition rules (ASVS V6.2)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (15 or more is better)."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in COMMON_PASSWORDS:
        return "This password is too common; choose another."
    return None


DUMMY_HASH = hash_password("timing-equaliser-not-a-password")
