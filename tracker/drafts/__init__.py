"""Nothing typed is lost to the idle sign-out: pages in use keep the session alive, and
a form posted after the session ended is kept and offered back after signing in."""

from tracker.drafts.hooks import (
    form_or_kept_blank,
    init_app,
    keep_timed_out_post,
    pending_draft,
    restore,
    use_draft,
)
from tracker.drafts.views import bp

__all__ = ["bp", "form_or_kept_blank", "init_app", "keep_timed_out_post", "pending_draft",
           "restore", "use_draft"]
