"""Entry point for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""

from tracker import create_app
from tracker.serving import settle_heap

app = create_app()
settle_heap()
