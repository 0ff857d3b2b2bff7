from tracker.series.views import bp

__all__ = ["bp"]
