# tracker in a container: gunicorn on port 8000, behind your TLS proxy (deploy/nginx.conf).
#   docker build -t tracker .
#   docker run --env-file /etc/tracker/env -p 127.0.0.1:8000:8000 tracker
# The env file holds DATABASE_URL, SECRET_KEY, TRACKER_TRUSTED_PROXIES=1 and so on (README,
# Production). Dependencies come from requirements.lock: exact versions, hashes checked.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRACKER_ENV_NAME=production \
    TRACKER_INSTANCE_PATH=/var/lib/tracker \
    BIND=0.0.0.0:8000 \
    WORKERS=4 \
    PATH=/app/.venv/bin:$PATH

# pg_dump and pg_restore for `flask backup` / `flask restore` (Debian 12: PostgreSQL 15;
# pg_dump must be at least the server's version).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The lock file first, so the dependency layer is rebuilt only when it changes.
COPY requirements.lock ./
RUN python -m venv /app/.venv \
    && /app/.venv/bin/pip install --require-hashes -r requirements.lock
COPY . .
RUN /app/.venv/bin/pip install --no-deps -e . \
    && useradd --system --home-dir /var/lib/tracker --shell /usr/sbin/nologin tracker \
    && install -d -o tracker -g tracker -m 700 /var/lib/tracker

USER tracker
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# Migrations run before gunicorn starts; with several replicas, run them once as a
# separate step instead (`docker run ... tracker flask --app wsgi db upgrade`).
CMD ["sh", "-c", "flask --app wsgi db upgrade && exec gunicorn -c deploy/gunicorn.conf.py wsgi:app"]
