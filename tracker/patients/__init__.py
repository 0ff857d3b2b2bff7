from tracker.patients.views import bp

__all__ = ["bp"]
