from tracker.sessions.views import bp

__all__ = ["bp"]
