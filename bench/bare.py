"""The baseline: one Flask route on the same server settings as the app (``make bench``)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "<!doctype html><title>bare</title><p>ok</p>"
