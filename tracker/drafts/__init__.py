"""Nothing typed is lost to the idle sign-out: pages in use keep the session alive, and
a form posted after the session ended is kept and offered back after signing in."""

from tracker.drafts.hooks import init_app, keep_timed_out_post, restore
from tracker.drafts.views import bp

__all__ = ["bp", "init_app", "keep_timed_out_post", "restore"]
