"""gunicorn settings for tracker (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

Everything an operator tunes comes from the environment, so the same file serves the
systemd unit, the container and ``make serve-prod``.
"""

import os

# Where nginx connects. Keep it on loopback (or a private socket): only the proxy talks
# to gunicorn, and only the proxy's X-Forwarded-* headers are trusted.
bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: each handles one request at a time; 2-4 per core is the usual range.
workers = int(os.environ.get("WORKERS", "4"))
worker_class = "sync"

# A request taking longer than this is killed and its worker replaced; SIGHUP or SIGTERM
# gives running requests this long to finish (graceful restart and shutdown).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Replace each worker after a while, so a slow leak never grows into an outage.
max_requests = 2000
max_requests_jitter = 200
# No preloading: `kill -HUP` (systemctl reload) starts workers with the new code, then
# stops the old ones once their requests are done.
preload_app = False

# Access log on stdout without query strings: %(U)s is the path only; a search's query
# string (?q=) holds patients' names. The app writes its own JSON line per request too.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%({x-request-id}o)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# gunicorn believes X-Forwarded-Proto only from the proxy on loopback; tracker decides the
# rest (client address, host, port) from TRACKER_TRUSTED_PROXIES.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "tracker"
