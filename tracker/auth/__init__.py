"""Sign-in, sign-out and the rules that keep a signed-in session trustworthy."""

from tracker.auth.setup import init_app
from tracker.auth.views import bp

__all__ = ["bp", "init_app"]
