from tracker.main.views import bp

__all__ = ["bp"]
