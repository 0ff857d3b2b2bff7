"""Entry point for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""

import gc

from tracker import create_app

app = create_app()

# What startup built (modules, models, routes, the template environment) lives as long as
# the worker: frozen out of the cycle collector, which otherwise walks all of it again in
# each older-generation collection. Young collections run less often too; a request's
# garbage is mostly freed by reference counting as it goes. Together they took 10 to 30 %
# off the CPU time of the record pages (README, Performance).
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 10, 10)
